import { describe, expect, it } from 'vitest';
import type { StandardSchemaV1 } from './index.js';
import {
  AppError,
  computeBackoff,
  DEFAULT_RETRY_POLICY,
  isAppError,
  retry,
  validateWithSchema,
} from './index.js';

class DemoError extends AppError<'BAD'> {
  constructor(message: string, cause?: unknown) {
    super('@app/demo', 'BAD', message, { cause });
  }
}

describe('AppError', () => {
  it('prefixes the message, keeps code and cause, and is recognised by brand', () => {
    const cause = new Error('inner');
    const err = new DemoError('went wrong', cause);
    expect(err.message).toBe('[@app/demo] went wrong');
    expect(err.code).toBe('BAD');
    expect(err.cause).toBe(cause);
    expect(err.name).toBe('DemoError');
    expect(isAppError(err)).toBe(true);
    expect(isAppError(err, '@app/demo', 'BAD')).toBe(true);
    expect(isAppError(err, '@app/otp')).toBe(false);
    expect(isAppError(new Error('plain'))).toBe(false);
    expect(isAppError({ code: 'BAD', package: '@app/demo' })).toBe(false);
  });
});

describe('retry', () => {
  it('computes capped exponential backoff', () => {
    const policy = { ...DEFAULT_RETRY_POLICY, jitter: 'none' as const, baseDelayMs: 100, maxDelayMs: 500 };
    expect([1, 2, 3, 4].map((a) => computeBackoff(a, policy))).toEqual([100, 200, 400, 500]);
    expect(computeBackoff(3, { ...policy, jitter: 'full' }, () => 0.5)).toBe(200);
  });

  it('retries until success and stops at maxAttempts or when told to', async () => {
    let calls = 0;
    const value = await retry(
      async () => {
        calls++;
        if (calls < 3) throw new Error('flaky');
        return 'ok';
      },
      { baseDelayMs: 1 },
    );
    expect(value).toBe('ok');
    expect(calls).toBe(3);

    calls = 0;
    await expect(
      retry(
        async () => {
          calls++;
          throw new Error('permanent');
        },
        { baseDelayMs: 1, maxAttempts: 5, shouldRetry: () => false },
      ),
    ).rejects.toThrow('permanent');
    expect(calls).toBe(1);

    calls = 0;
    const delays: number[] = [];
    await expect(
      retry(
        async () => {
          calls++;
          throw new Error('always');
        },
        {
          maxAttempts: 3,
          shouldRetry: () => ({ retry: true, afterMs: 2 }),
          onRetry: (_e, _a, d) => delays.push(d),
        },
      ),
    ).rejects.toThrow('always');
    expect(calls).toBe(3);
    expect(delays).toEqual([2, 2]);
  });
});

describe('validateWithSchema', () => {
  const positive: StandardSchemaV1<unknown, number> = {
    '~standard': {
      version: 1,
      vendor: 'test',
      validate: (v) =>
        typeof v === 'number' && v > 0
          ? { value: v }
          : { issues: [{ message: 'must be positive', path: ['n'] }] },
    },
  };
  it('returns the value or formatted issues', async () => {
    expect(await validateWithSchema(positive, 2)).toEqual({ ok: true, value: 2 });
    expect(await validateWithSchema(positive, -1)).toEqual({ ok: false, issues: ['n: must be positive'] });
  });
});
