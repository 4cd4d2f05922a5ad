import { AsyncLocalStorage } from 'node:async_hooks';
import { DiError, DiErrorCode } from './errors.js';
import type { Container } from './types.js';

const storage = new AsyncLocalStorage<Container>();

/**
 * Opens a scope of `container`, runs `fn` inside it (so {@link currentScope} returns it anywhere below,
 * across awaits), then disposes the scope, whether `fn` succeeded or threw.
 *
 * @example
 * ```ts
 * // Express: one scope per request, disposed when the response is done.
 * app.use((req, res, next) =>
 *   runInScope(container, (scope) => {
 *     scope.register(REQUEST_ID, { useValue: req.get('x-request-id') ?? randomUUID() });
 *     return new Promise<void>((done) => {
 *       res.once('close', done);
 *       next();
 *     });
 *   }),
 * );
 * ```
 */
export async function runInScope<R>(
  container: Container,
  fn: (scope: Container) => R | Promise<R>,
): Promise<R> {
  const scope = container.createScope();
  let result: R;
  try {
    result = await storage.run(scope, () => fn(scope));
  } catch (error) {
    await scope.dispose().catch(() => undefined);
    throw error;
  }
  await scope.dispose();
  return result;
}

/**
 * The scope opened by the enclosing {@link runInScope}. Outside one, returns `fallback` when given and
 * throws `NO_ACTIVE_SCOPE` otherwise.
 *
 * @example
 * ```ts
 * async function audit(action: string) {
 *   const log = await currentScope().resolveAsync(AUDIT_LOG); // the request's instance
 *   await log.write(action);
 * }
 * ```
 */
export function currentScope(fallback?: Container): Container {
  const scope = storage.getStore();
  if (scope !== undefined) return scope;
  if (fallback !== undefined) return fallback;
  throw new DiError(
    DiErrorCode.NO_ACTIVE_SCOPE,
    'currentScope() was called outside runInScope(): open a scope first, or pass a fallback container',
  );
}
