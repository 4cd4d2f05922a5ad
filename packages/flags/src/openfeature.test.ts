import { ErrorCode, OpenFeature, ProviderEvents } from '@openfeature/server-sdk';
import { afterAll, describe, expect, it } from 'vitest';
import { createFlags } from './flags.js';
import { createOpenFeatureProvider, toFlagContext } from './openfeature.js';
import { memoryConfigSource } from './testing.js';
import { setFlag } from './writer.js';

const source = memoryConfigSource();
await setFlag(source, 'new-checkout', {
  enabled: true,
  rules: [
    { name: 'staff', conditions: [{ attribute: 'email', operator: 'STR_ENDS_WITH', values: ['@acme.com'] }] },
  ],
  rollout: 0,
});
await setFlag(source, 'button', {
  enabled: true,
  variants: [
    { name: 'green', weight: 1, payload: '#0f0' },
    { name: 'big', weight: 0, payload: 42 },
  ],
  overrides: { 'u-big': 'big' },
});
await setFlag(source, 'layout', {
  enabled: true,
  variants: [{ name: 'grid', weight: 1, payload: { columns: 3 } }],
});
await setFlag(source, 'named', { enabled: true, variants: [{ name: 'plain', weight: 1 }] });
await setFlag(source, 'off', { enabled: false, variants: [{ name: 'x', weight: 1, payload: 'x' }] });
const flags = createFlags({ source });
const provider = createOpenFeatureProvider(flags);
await OpenFeature.setProviderAndWait(provider);
const client = OpenFeature.getClient();

afterAll(async () => {
  await OpenFeature.close();
  await flags.close();
});

describe('OpenFeature provider through the real client', () => {
  it('resolves booleans with reasons, rule metadata and targetingKey as userId', async () => {
    const staff = await client.getBooleanDetails('new-checkout', false, {
      targetingKey: 'u1',
      email: 'a@acme.com',
    });
    expect(staff).toMatchObject({
      flagKey: 'new-checkout',
      value: true,
      reason: 'TARGETING_MATCH',
      flagMetadata: { ruleIndex: 0, ruleName: 'staff' },
    });
    expect(staff.errorCode).toBeUndefined();
    const other = await client.getBooleanDetails('new-checkout', true, {
      targetingKey: 'u1',
      email: 'a@b.com',
    });
    expect(other).toMatchObject({ value: false, reason: 'SPLIT' });
  });

  it("a flag that is off (kill switch) resolves to the caller's default with reason DISABLED", async () => {
    expect(await client.getBooleanValue('off', true)).toBe(true);
    expect(await client.getBooleanDetails('off', true)).toMatchObject({ value: true, reason: 'DISABLED' });
    expect(await client.getBooleanDetails('off', false)).toMatchObject({ value: false, reason: 'DISABLED' });
    const details = await client.getBooleanDetails('off', true, { targetingKey: 'u1' });
    expect(details.errorCode).toBeUndefined();
    expect(details.variant).toBeUndefined();
    // Off by targeting (the flag is enabled) is a resolved `false`, not the default.
    expect(
      await client.getBooleanDetails('new-checkout', true, { targetingKey: 'u1', email: 'a@b.com' }),
    ).toMatchObject({ value: false, reason: 'SPLIT' });
  });

  it('resolves string, number and object payloads of the variant', async () => {
    expect(await client.getStringDetails('button', 'none', { targetingKey: 'u1' })).toMatchObject({
      value: '#0f0',
      variant: 'green',
      reason: 'SPLIT',
    });
    expect(await client.getNumberDetails('button', 0, { targetingKey: 'u-big' })).toMatchObject({
      value: 42,
      variant: 'big',
      reason: 'TARGETING_MATCH',
    });
    expect(await client.getObjectValue('layout', {}, { targetingKey: 'u1' })).toEqual({ columns: 3 });
    expect(await client.getStringValue('named', 'none', { targetingKey: 'u1' })).toBe('plain');
    expect(await client.getStringDetails('off', 'fallback')).toMatchObject({
      value: 'fallback',
      reason: 'DISABLED',
    });
  });

  it('gives the default with FLAG_NOT_FOUND and TYPE_MISMATCH error codes', async () => {
    expect(await client.getBooleanDetails('missing', true)).toMatchObject({
      value: true,
      reason: 'ERROR',
      errorCode: ErrorCode.FLAG_NOT_FOUND,
    });
    expect(await client.getNumberDetails('button', 7, { targetingKey: 'u1' })).toMatchObject({
      value: 7,
      reason: 'ERROR',
      errorCode: ErrorCode.TYPE_MISMATCH,
    });
    expect(await client.getStringDetails('new-checkout', 'd', { email: 'a@acme.com' })).toMatchObject({
      value: 'd',
      errorCode: ErrorCode.TYPE_MISMATCH,
    });
    expect(await client.getObjectDetails('button', { a: 1 }, { targetingKey: 'u1' })).toMatchObject({
      value: { a: 1 },
      errorCode: ErrorCode.TYPE_MISMATCH,
    });
  });

  it('emits PROVIDER_CONFIGURATION_CHANGED with the changed flags, and serves the new definition', async () => {
    const events: (string[] | undefined)[] = [];
    const handler: Parameters<typeof client.addHandler>[1] = (details) => {
      events.push(details?.flagsChanged as string[] | undefined);
    };
    client.addHandler(ProviderEvents.ConfigurationChanged, handler);
    await setFlag(source, 'new-checkout', { enabled: true });
    await setFlag(source, 'brand-new', { enabled: true });
    await expect.poll(() => events).toEqual([['new-checkout'], ['brand-new']]);
    expect(await client.getBooleanValue('new-checkout', false, { targetingKey: 'anyone' })).toBe(true);
    expect(await client.getBooleanValue('brand-new', false)).toBe(true);
    client.removeHandler(ProviderEvents.ConfigurationChanged, handler);
  });

  it('maps contexts: primitives and dates kept, objects dropped, userId wins over targetingKey', () => {
    const at = new Date(0);
    expect(toFlagContext({ targetingKey: 't', userId: 'u', at, n: 1, nested: { a: 1 }, list: [1] })).toEqual({
      targetingKey: 't',
      userId: 'u',
      at,
      n: 1,
    });
    expect(toFlagContext({ targetingKey: 't' }).userId).toBe('t');
  });
});

describe('provider lifecycle', () => {
  it('waits for the flags to load and closes them when asked', async () => {
    const src = memoryConfigSource();
    await setFlag(src, 'a', { enabled: true });
    const own = createFlags({ source: src });
    const p = createOpenFeatureProvider(own, { closeFlags: true, name: 'mine' });
    await OpenFeature.setProviderAndWait('lifecycle', p);
    const c = OpenFeature.getClient('lifecycle');
    expect(c.metadata.providerMetadata.name).toBe('mine');
    expect(await c.getBooleanValue('a', false)).toBe(true);
    await p.onClose();
    await setFlag(src, 'a', { enabled: false });
    expect(own.isEnabled('a')).toBe(true);
  });
});
