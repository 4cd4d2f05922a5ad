// Resolution paths (`a -> b -> c`) and the errors that carry one.
import { DiError, DiErrorCode } from './errors.js';
import type { Frame, Node } from './model.js';
import { tokenName } from './token.js';

/** The token names from the outermost request down to `frame`, then `last` when given. */
export function pathOf(frame: Frame | undefined, last?: string): string[] {
  const names: string[] = last === undefined ? [] : [last];
  for (let f = frame; f !== undefined; f = f.parent) names.unshift(f.reg.name);
  return names;
}

export function describePath(path: string[]): string {
  return path.length > 1 ? ` (path: ${path.join(' -> ')})` : '';
}

export function assertOpen(c: Node, parent: Frame | undefined): void {
  if (c.disposed) throw disposedError(c, parent);
}

export function disposedError(c: Node, parent: Frame | undefined): DiError {
  return new DiError(DiErrorCode.DISPOSED, `this ${c.parent ? 'scope' : 'container'} was disposed`, {
    path: pathOf(parent),
  });
}

export function notRegistered(token: unknown, parent: Frame | undefined): DiError {
  const name = tokenName(token);
  const path = pathOf(parent, name);
  const chain =
    parent === undefined ? '' : ` (requested by ${pathOf(parent).at(-1)}; path: ${path.join(' -> ')})`;
  return new DiError(DiErrorCode.NOT_REGISTERED, `nothing is registered for '${name}'${chain}`, {
    path,
  });
}

export function circular(path: string[]): DiError {
  return new DiError(DiErrorCode.CIRCULAR_DEPENDENCY, `circular dependency: ${path.join(' -> ')}`, {
    path,
  });
}
