// OTP through OpenTelemetry, with the SDK's in-memory exporters handed to the service as providers: spans
// with purpose and outcome, outcome counts per purpose, and never a code, destination or IP in any attribute.
import { createTestSdk } from '@app/test-harness/otel';
import { describe, expect, it } from 'vitest';
import { memoryOtpStore } from './adapters/memory.js';
import { createOtpService, type OtpServiceOptions } from './service.js';

function sdk() {
  const recorded = createTestSdk({ global: false });
  return {
    telemetry: { tracerProvider: recorded.tracerProvider, meterProvider: recorded.meterProvider },
    spans: () => recorded.spans(),
    async points() {
      return (await recorded.metrics())
        .filter((m) => m.descriptor.name === 'app.otp.outcomes')
        .flatMap((m) => m.dataPoints.map((p) => ({ ...p.attributes, value: p.value })));
    },
  };
}

const TO = '+14155550123';
const IP = '203.0.113.9';

function service(overrides: Partial<OtpServiceOptions>) {
  const sent: string[] = [];
  const otp = createOtpService({
    store: memoryOtpStore(),
    secret: 'telemetry-test-secret-0123456789abcdef',
    channels: { sms: { deliver: async (d) => void sent.push(d.code) } },
    maxAttempts: 2,
    ipLimit: { max: 5, windowMs: 60_000 },
    ...overrides,
  });
  return { otp, sent };
}

describe('OTP telemetry', () => {
  it('spans send and verify with purpose and outcome, counts outcomes per purpose, and leaks nothing', async () => {
    const o = sdk();
    const { otp, sent } = service({ telemetry: o.telemetry });
    await otp.send({ to: TO, channel: 'sms', purpose: 'login', ip: IP });
    const code = sent[0]!;
    const wrong = code === '000000' ? '111111' : '000000';
    await otp.verify({ to: TO, code: wrong, purpose: 'login' });
    await otp.verify({ to: TO, code, purpose: 'login' });
    await expect(otp.send({ to: TO, channel: 'sms', purpose: 'login', ip: IP })).resolves.toBeDefined();
    await expect(otp.send({ to: TO, channel: 'sms', purpose: 'login', ip: IP })).rejects.toMatchObject({
      code: 'RATE_LIMITED',
    });
    await otp.send({ to: TO, channel: 'sms', purpose: 'reset' });
    const resetCode = sent[2]!;
    const resetWrong = resetCode === '000000' ? '111111' : '000000';
    await otp.verify({ to: TO, code: resetWrong, purpose: 'reset' });
    await otp.verify({ to: TO, code: resetWrong, purpose: 'reset' });

    const spans = o
      .spans()
      .map((s) => [s.name, s.attributes['app.otp_service.purpose'], s.attributes['app.otp_service.outcome']]);
    expect(spans).toEqual([
      ['otp.send', 'login', 'sent'],
      ['otp.verify', 'login', 'failed'],
      ['otp.verify', 'login', 'verified'],
      ['otp.send', 'login', 'sent'],
      ['otp.send', 'login', 'rate_limited'],
      ['otp.send', 'reset', 'sent'],
      ['otp.verify', 'reset', 'failed'],
      ['otp.verify', 'reset', 'locked'],
    ]);
    const limited = o.spans()[4]!;
    expect(limited.attributes).toMatchObject({
      'app.otp_service.reason': 'cooldown',
      'error.type': 'RATE_LIMITED',
    });

    const points = await o.points();
    const count = (purpose: string, operation: string, outcome: string) =>
      points.find(
        (p) =>
          (p as Record<string, unknown>)['app.otp_service.purpose'] === purpose &&
          (p as Record<string, unknown>)['app.otp_service.operation'] === operation &&
          (p as Record<string, unknown>)['app.otp_service.outcome'] === outcome,
      )?.value;
    expect(count('login', 'send', 'sent')).toBe(2);
    expect(count('login', 'send', 'rate_limited')).toBe(1);
    expect(count('login', 'verify', 'verified')).toBe(1);
    expect(count('login', 'verify', 'failed')).toBe(1);
    expect(count('reset', 'verify', 'locked')).toBe(1);

    // Every attribute of every span, event and data point: no code, destination (any spelling) or IP.
    const values = [
      ...o
        .spans()
        .flatMap((s) => [
          ...Object.values(s.attributes),
          ...s.events.flatMap((e) => Object.values(e.attributes ?? {})),
        ]),
      ...points.flatMap((p) => Object.values(p)),
    ].map(String);
    expect(values.length).toBeGreaterThan(20);
    for (const secret of [...sent, TO, TO.slice(1), '4155550123', IP]) {
      for (const v of values) expect(v).not.toContain(secret);
    }
  });

  it('records nothing with telemetry: false', async () => {
    const { otp } = service({ telemetry: false });
    await otp.send({ to: TO, channel: 'sms', purpose: 'login' });
    expect(await otp.verify({ to: TO, code: '12345', purpose: 'login' })).toEqual({ ok: false });
  });
});
