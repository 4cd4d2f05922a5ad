// Shared by the middleware tests: one policy and the requests every framework must answer alike.
import { expect } from 'vitest';
import { createPermissionService, type PermissionService } from '../../service.js';
import { memoryPermissionStore } from '../memory.js';

export async function guardFixture(): Promise<PermissionService> {
  const permissions = createPermissionService({ store: memoryPermissionStore() });
  await permissions.grant('owner', 'room:*');
  await permissions.assign('alice', 'owner', { resource: { type: 'room', id: '42' } });
  await permissions.assign('alice', 'owner', { resource: { type: 'room', id: 'Café' } });
  return permissions;
}

/** Path (already URL-encoded), user header, expected status, expected error code (none when allowed). */
export const CASES: [path: string, user: string | undefined, status: number, code?: string][] = [
  ['/rooms/42', undefined, 401, 'UNAUTHENTICATED'],
  ['/rooms/42', 'alice', 200],
  ['/rooms/Cafe%CC%81', 'alice', 200],
  ['/rooms/43', 'alice', 403, 'FORBIDDEN'],
  ['/rooms/42', 'bob', 403, 'FORBIDDEN'],
  ['/rooms/%2A', 'alice', 400, 'INVALID_RESOURCE'],
  ['/rooms/a..b', 'alice', 400, 'INVALID_RESOURCE'],
  ['/rooms/42%2F..', 'alice', 400, 'INVALID_RESOURCE'],
  ['/rooms/42%3A1', 'alice', 400, 'INVALID_RESOURCE'],
  ['/rooms/4%E2%80%8B2', 'alice', 400, 'INVALID_RESOURCE'],
  ['/rooms/%EF%BC%8A', 'alice', 400, 'INVALID_RESOURCE'],
];

export function expectOutcome(status: number, body: unknown, expectedStatus: number, code?: string): void {
  expect(status).toBe(expectedStatus);
  if (code === undefined) expect(body).toEqual({ ok: true });
  else expect(body).toEqual({ error: { status: expectedStatus, code, message: expect.any(String) } });
}
