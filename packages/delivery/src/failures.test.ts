import { describe, expect, it } from 'vitest';
import * as failures from './failures.js';

const { classifyFailure, classifyHttpStatus, httpStatusOf, isNetworkError, parseRetryAfter } = failures;

const withCode = (code: string) => Object.assign(new Error(code), { code });

describe('isNetworkError', () => {
  it.each([
    'ECONNRESET',
    'ECONNREFUSED',
    'ETIMEDOUT',
    'ESOCKETTIMEDOUT',
    'EAI_AGAIN',
    'ERR_NETWORK',
    'UND_ERR_SOCKET',
    'UND_ERR_HEADERS_TIMEOUT',
  ])('is true for code %s', (code) => {
    expect(isNetworkError(withCode(code))).toBe(true);
  });

  it('is true for timeout-like names and through a cause chain', () => {
    expect(isNetworkError(Object.assign(new Error('t'), { name: 'TimeoutError' }))).toBe(true);
    expect(
      isNetworkError(new Error('sdk failed', { cause: new Error('x', { cause: withCode('EPIPE') }) })),
    ).toBe(true);
  });

  it('is false for anything else, and survives a self-referencing cause', () => {
    expect(isNetworkError(new TypeError('bug'))).toBe(false);
    expect(isNetworkError('ECONNRESET')).toBe(false);
    expect(isNetworkError(null)).toBe(false);
    const loop = new Error('loop') as Error & { cause?: unknown };
    const other = new Error('other', { cause: loop });
    loop.cause = other;
    expect(isNetworkError(loop)).toBe(false);
  });
});

describe('classifyHttpStatus / classifyFailure', () => {
  it('maps statuses: 429, 408 and 5xx transient; 401/403 provider; other 4xx permanent', () => {
    expect(classifyHttpStatus(429)).toBe('transient');
    expect(classifyHttpStatus(408)).toBe('transient');
    expect(classifyHttpStatus(503)).toBe('transient');
    expect(classifyHttpStatus(401)).toBe('provider');
    expect(classifyHttpStatus(403)).toBe('provider');
    expect(classifyHttpStatus(400)).toBe('permanent');
    expect(classifyHttpStatus(422)).toBe('permanent');
  });

  it('reads the status wherever the SDK put it', () => {
    expect(httpStatusOf({ statusCode: 502 })).toBe(502);
    expect(httpStatusOf({ status: 401 })).toBe(401);
    expect(httpStatusOf({ $metadata: { httpStatusCode: 429 } })).toBe(429);
    expect(httpStatusOf(new Error('none'))).toBeUndefined();
  });

  it('classifies network errors, statuses (keeping retryAfterMs) and the rest', () => {
    expect(classifyFailure(withCode('ECONNRESET'))).toEqual({ kind: 'transient' });
    expect(classifyFailure(Object.assign(new Error('x'), { statusCode: 503 }))).toEqual({
      kind: 'transient',
    });
    expect(classifyFailure(Object.assign(new Error('x'), { status: 408 }))).toEqual({ kind: 'transient' });
    expect(classifyFailure(Object.assign(new Error('x'), { status: 429, retryAfterMs: 2000 }))).toEqual({
      kind: 'transient',
      retryAfterMs: 2000,
    });
    expect(classifyFailure(Object.assign(new Error('x'), { status: 401 }))).toEqual({ kind: 'provider' });
    expect(classifyFailure(Object.assign(new Error('x'), { statusCode: 400 }))).toEqual({
      kind: 'permanent',
    });
    expect(classifyFailure(new TypeError('bug'))).toEqual({ kind: 'provider' });
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates into ms', () => {
    expect(parseRetryAfter('2')).toBe(2000);
    expect(parseRetryAfter(' 1.5 ')).toBe(1500);
    expect(parseRetryAfter(3)).toBe(3000);
    expect(parseRetryAfter(['4', '9'])).toBe(4000);
    expect(parseRetryAfter(new Date(61_000).toUTCString(), undefined, 1_000)).toBe(60_000);
    expect(parseRetryAfter(new Date(1_000).toUTCString(), undefined, 61_000)).toBe(0);
  });

  it('falls back to an epoch-seconds reset header', () => {
    expect(parseRetryAfter(undefined, '65', 60_000)).toBe(5_000);
    expect(parseRetryAfter('garbage', 70, 60_000)).toBe(10_000);
  });

  it('answers undefined when absent or unparsable', () => {
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter('')).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
    expect(parseRetryAfter(undefined, 'x')).toBeUndefined();
  });
});
