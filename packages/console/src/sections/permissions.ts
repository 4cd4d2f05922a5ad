import { ConsoleError } from '../errors.js';
import { type Route, requireString, type Section } from '../http.js';
import type { ConsoleOptions } from '../types.js';

type Service = NonNullable<ConsoleOptions['permissions']>;

function scopeOf(input: Record<string, unknown>) {
  const tenant = typeof input.tenant === 'string' && input.tenant !== '' ? input.tenant : undefined;
  const type =
    typeof input.resourceType === 'string' && input.resourceType !== '' ? input.resourceType : undefined;
  const id = typeof input.resourceId === 'string' && input.resourceId !== '' ? input.resourceId : undefined;
  if ((type === undefined) !== (id === undefined)) {
    throw new ConsoleError('INVALID_INPUT', 'a resource scope needs both resourceType and resourceId');
  }
  return { ...(tenant ? { tenant } : {}), ...(type && id ? { resource: { type, id } } : {}) };
}

/**
 * The permissions section: roles with their inheritance and rules, a subject's effective permissions
 * (assignments with scope), grant/deny/revoke, inherit/disinherit, assign/unassign, and `explain`.
 */
export function permissionsSection(service: Service): Section {
  let notify: ((data: unknown) => void) | undefined;
  const changed = (what: string) => notify?.({ changed: what });
  /**
   * A POST that changes what `target` (a role or a subject) has of `other`, both required strings of the body:
   * `apply` runs the body's `op` (a typed error for an unknown one); the change is then recorded and announced.
   */
  const change = (
    path: string,
    target: 'role' | 'subject',
    other: 'permission' | 'parent' | 'role',
    apply: (
      target: string,
      other: string,
      input: Record<string, unknown>,
    ) => Promise<{ action: string; after: Record<string, unknown>; reply: Record<string, unknown> }>,
  ): Route => ({
    method: 'POST',
    path,
    write: true,
    handle: async ({ body, record }) => {
      const input = await body();
      const who = requireString(input[target], target);
      const what = requireString(input[other], other);
      const { action, after, reply } = await apply(who, what, input);
      await record({ action, target: who, after });
      changed(who);
      return reply;
    },
  });
  const routes: Route[] = [
    {
      method: 'GET',
      path: '',
      handle: async () => {
        const names = await service.listRoles();
        const roles = await Promise.all(names.map((name) => service.getRole(name)));
        return { roles: roles.filter((r) => r !== undefined) };
      },
    },
    {
      method: 'GET',
      path: '/subject',
      handle: async ({ url }) => {
        const subject = requireString(url.searchParams.get('subject'), 'subject');
        return { subject, permissions: await service.listPermissions(subject) };
      },
    },
    {
      method: 'GET',
      path: '/explain',
      handle: async ({ url }) => {
        const q = url.searchParams;
        const subject = requireString(q.get('subject'), 'subject');
        const action = requireString(q.get('action'), 'action');
        const type = requireString(q.get('type'), 'resource type');
        const id = q.get('id') || undefined;
        const tenant = q.get('tenant') || undefined;
        return service.explain(subject, action, { type, id, tenant });
      },
    },
    change('/rules', 'role', 'permission', async (role, permission, input) => {
      const op = input.op;
      let result: boolean | undefined;
      if (op === 'grant') await service.grant(role, permission);
      else if (op === 'deny') await service.deny(role, permission);
      else if (op === 'revoke') {
        const effect = input.effect === 'deny' ? 'deny' : 'allow';
        result = await service.revoke(role, permission, { effect });
      } else throw new ConsoleError('INVALID_INPUT', 'op must be grant, deny or revoke');
      return {
        action: op,
        after: { permission, effect: input.effect },
        reply: { role, permission, op, ...(result === undefined ? {} : { changed: result }) },
      };
    }),
    change('/inheritance', 'role', 'parent', async (role, parent, { op }) => {
      if (op === 'inherit') await service.inherit(role, parent);
      else if (op === 'disinherit') await service.disinherit(role, parent);
      else throw new ConsoleError('INVALID_INPUT', 'op must be inherit or disinherit');
      return { action: op, after: { parent }, reply: { role, parent, op } };
    }),
    change('/assignments', 'subject', 'role', async (subject, role, input) => {
      const scope = scopeOf(input);
      const op = input.op;
      if (op === 'assign') await service.assign(subject, role, scope);
      else if (op === 'unassign') await service.unassign(subject, role, scope);
      else throw new ConsoleError('INVALID_INPUT', 'op must be assign or unassign');
      return { action: op, after: { role, scope }, reply: { subject, role, scope, op } };
    }),
  ];
  return {
    name: 'permissions',
    routes,
    async start(send) {
      notify = send;
    },
  };
}
