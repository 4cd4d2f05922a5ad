/**
 * The logging shape every package accepts: pino's, so a pino (or pino-compatible) logger fits as is.
 * Packages never log secrets, codes or message bodies.
 *
 * @example
 * ```ts
 * import pino from 'pino';
 * const logger: Logger = pino();
 * ```
 */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const noop = (): void => {};

/**
 * The default logger: says nothing.
 *
 * @example
 * ```ts
 * const logger = options.logger ?? silentLogger;
 * ```
 */
export const silentLogger: Logger = Object.freeze({ debug: noop, info: noop, warn: noop, error: noop });
