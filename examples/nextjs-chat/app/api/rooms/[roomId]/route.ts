import { nextPermissions } from '@app/permissions/next';
import type { AppServices } from '@app-examples/shared';
import { getServices, tokenOf } from '../../../../lib/services';

type Ctx = { params: Promise<{ roomId: string }> };

// The guard answers 401 without a session, 403 when the subject may not delete this room, 400 for a malformed
// id; the handler runs only when allowed.
const guards = new WeakMap<AppServices, ReturnType<typeof buildGuard>>();
function buildGuard(services: AppServices) {
  return nextPermissions({
    permissions: services.permissions,
    getSubject: async (req) => (await services.auth.session(tokenOf(req)))?.userId,
  }).require('delete', 'room', { param: 'roomId' })<Ctx>(async (_req, { params }) => {
    const { roomId } = await params;
    const deleted = await services.rooms.delete(roomId);
    return deleted
      ? new Response(null, { status: 204 })
      : Response.json({ error: { message: 'no such room' } }, { status: 404 });
  });
}

export async function DELETE(req: Request, ctx: Ctx): Promise<Response> {
  const services = await getServices();
  let guarded = guards.get(services);
  if (!guarded) {
    guarded = buildGuard(services);
    guards.set(services, guarded);
  }
  return guarded(req, ctx);
}
