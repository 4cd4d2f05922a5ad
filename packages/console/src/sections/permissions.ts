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
    {
      method: 'POST',
      path: '/rules',
      write: true,
      handle: async ({ body, record }) => {
        const input = await body();
        const role = requireString(input.role, 'role');
        const permission = requireString(input.permission, 'permission');
        const op = input.op;
        let result: boolean | undefined;
        if (op === 'grant') await service.grant(role, permission);
        else if (op === 'deny') await service.deny(role, permission);
        else if (op === 'revoke') {
          const effect = input.effect === 'deny' ? 'deny' : 'allow';
          result = await service.revoke(role, permission, { effect });
        } else throw new ConsoleError('INVALID_INPUT', 'op must be grant, deny or revoke');
        await record({ action: op, target: role, after: { permission, effect: input.effect } });
        changed(role);
        return { role, permission, op, ...(result === undefined ? {} : { changed: result }) };
      },
    },
    {
      method: 'POST',
      path: '/inheritance',
      write: true,
      handle: async ({ body, record }) => {
        const input = await body();
        const role = requireString(input.role, 'role');
        const parent = requireString(input.parent, 'parent');
        if (input.op === 'inherit') await service.inherit(role, parent);
        else if (input.op === 'disinherit') await service.disinherit(role, parent);
        else throw new ConsoleError('INVALID_INPUT', 'op must be inherit or disinherit');
        await record({ action: input.op, target: role, after: { parent } });
        changed(role);
        return { role, parent, op: input.op };
      },
    },
    {
      method: 'POST',
      path: '/assignments',
      write: true,
      handle: async ({ body, record }) => {
        const input = await body();
        const subject = requireString(input.subject, 'subject');
        const role = requireString(input.role, 'role');
        const scope = scopeOf(input);
        if (input.op === 'assign') await service.assign(subject, role, scope);
        else if (input.op === 'unassign') await service.unassign(subject, role, scope);
        else throw new ConsoleError('INVALID_INPUT', 'op must be assign or unassign');
        await record({ action: input.op, target: subject, after: { role, scope } });
        changed(subject);
        return { subject, role, scope, op: input.op };
      },
    },
  ];
  return {
    name: 'permissions',
    routes,
    async start(send) {
      notify = send;
    },
  };
}
