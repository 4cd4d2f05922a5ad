import type { DeadLetter } from '../types.js';

/** Serialises an error for a dead letter: name, message and stack, whatever was thrown. */
export function describeError(error: unknown): DeadLetter['error'] {
  if (error instanceof Error) {
    return { name: error.name, message: error.message, ...(error.stack ? { stack: error.stack } : {}) };
  }
  let message: string;
  try {
    message = typeof error === 'string' ? error : (JSON.stringify(error) ?? String(error));
  } catch {
    message = String(error);
  }
  return { name: 'NonError', message };
}
