declare const TOKEN_TYPE: unique symbol;

/**
 * A typed injection token: a unique `symbol` that remembers the type it stands for, so
 * `container.resolve(token)` returns that type. Being a symbol, it also works with tsyringe's
 * `@inject(token)`.
 */
export type Token<T> = symbol & { readonly [TOKEN_TYPE]?: T };

/** Any class whose instances are `T`, abstract classes included (usable as a token). */
export type AbstractConstructor<T> = abstract new (...args: never[]) => T;

/** A concrete class whose instances are `T` (usable as a token and as `useClass`). */
export type Constructor<T> = new (...args: never[]) => T;

/**
 * What a provider is registered under: a typed {@link Token} (the documented path), a class, or a string
 * key (accepted for code ported from string-keyed containers; its type must be given explicitly).
 */
export type InjectionToken<T> = Token<T> | AbstractConstructor<T> | string;

/** The type a token stands for. */
export type TokenType<K> =
  K extends Token<infer T> ? T : K extends AbstractConstructor<infer T> ? T : unknown;

/**
 * Creates a typed token. `name` is what error messages and resolution paths show.
 *
 * @example
 * ```ts
 * interface Mailer { send(to: string, body: string): Promise<void> }
 * const MAILER = createToken<Mailer>('Mailer');
 * container.register(MAILER, { useValue: consoleMailer });
 * const mailer = container.resolve(MAILER); // Mailer
 * ```
 */
export function createToken<T>(name: string): Token<T> {
  if (typeof name !== 'string' || name.length === 0) {
    throw new TypeError('[@app/di] createToken(name): name must be a non-empty string');
  }
  return Symbol(name) as Token<T>;
}

/**
 * The readable name of a token, as error messages and resolution paths print it.
 *
 * @example
 * ```ts
 * tokenName(createToken<Mailer>('Mailer')); // 'Mailer'
 * tokenName(SignupService); // 'SignupService'
 * ```
 */
export function tokenName(token: unknown): string {
  if (typeof token === 'symbol') return token.description ?? token.toString();
  if (typeof token === 'string') return token;
  if (typeof token === 'function') return token.name || '<anonymous class>';
  if (typeof token === 'object' && token !== null && 'token' in token) return tokenName(token.token);
  return String(token);
}
