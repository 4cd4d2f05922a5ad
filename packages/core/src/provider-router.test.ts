import { describe, expect, it } from 'vitest';
import type { ConfigSource } from './index.js';
import { createProviderRouter, isAppError, ProviderRouterError } from './index.js';

class HttpError extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
  }
}
const classify = (e: unknown) => {
  const status = e instanceof HttpError ? e.status : 0;
  if (status === 429 || status >= 500)
    return { kind: 'transient' as const, retryAfterMs: status === 429 ? 1 : undefined };
  if (status === 401) return { kind: 'provider' as const };
  return { kind: 'permanent' as const };
};
function mapSource(values: Record<string, unknown>): ConfigSource {
  return { get: async (k) => values[k], watch: () => () => {} };
}
type Fake = { name: string; fail: number[] };
const call = (p: Fake) => {
  const status = p.fail.shift();
  if (status) return Promise.reject(new HttpError(status));
  return Promise.resolve(`sent by ${p.name}`);
};

describe('createProviderRouter', () => {
  it('reads the chain from config at every call', async () => {
    const values: Record<string, unknown> = { 'x.provider': 'b', 'x.failover': ['a'] };
    const router = createProviderRouter<Fake>({
      providers: { a: { name: 'a', fail: [] }, b: { name: 'b', fail: [] } },
      config: mapSource(values),
      providerKey: 'x.provider',
      failoverKey: 'x.failover',
      classify,
    });
    expect(await router.chain()).toEqual(['b', 'a']);
    expect((await router.run(call)).provider).toBe('b');
    values['x.provider'] = 'a';
    expect((await router.run(call)).provider).toBe('a');
  });

  it('retries transient failures, fails over on provider failures, never on permanent ones', async () => {
    const a = { name: 'a', fail: [503, 429] };
    const b = { name: 'b', fail: [] };
    const router = createProviderRouter<Fake>({ providers: { a, b }, classify, retry: { baseDelayMs: 1 } });
    expect(await router.run(call)).toEqual({ value: 'sent by a', provider: 'a', attempts: 3, failovers: 0 });

    a.fail.push(401);
    expect(await router.run(call)).toEqual({ value: 'sent by b', provider: 'b', attempts: 2, failovers: 1 });

    a.fail.push(400);
    await expect(router.run(call)).rejects.toMatchObject({ status: 400 });
    expect(b.fail).toEqual([]);
  });

  it('reports every attempt when all providers fail, and rejects unknown names', async () => {
    const router = createProviderRouter<Fake>({
      providers: { a: { name: 'a', fail: [500, 500, 500] }, b: { name: 'b', fail: [401] } },
      classify,
      retry: { baseDelayMs: 1 },
    });
    const err = await router.run(call).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderRouterError);
    expect(isAppError(err, '@app/core', 'ALL_PROVIDERS_FAILED')).toBe(true);
    expect((err as ProviderRouterError).attempts.map((a) => `${a.provider}:${a.kind}`)).toEqual([
      'a:transient',
      'a:transient',
      'a:transient',
      'b:provider',
    ]);

    const bad = createProviderRouter<Fake>({
      providers: { a: { name: 'a', fail: [] } },
      config: mapSource({ k: 'nope' }),
      providerKey: 'k',
      classify,
    });
    await expect(bad.run(call)).rejects.toMatchObject({ code: 'UNKNOWN_PROVIDER' });
  });

  it('starts no attempt once the signal is aborted, not even on the next provider', async () => {
    const a = { name: 'a', fail: [401] };
    const b = { name: 'b', fail: [] };
    const router = createProviderRouter<Fake>({ providers: { a, b }, classify, retry: { baseDelayMs: 1 } });
    const controller = new AbortController();
    let calls = 0;
    const aborting = (p: Fake) => {
      calls++;
      controller.abort(new Error('caller gave up'));
      return call(p);
    };
    await expect(router.run(aborting, { signal: controller.signal })).rejects.toThrow('caller gave up');
    expect(calls).toBe(1);
    expect(b.fail).toEqual([]);
  });
});
