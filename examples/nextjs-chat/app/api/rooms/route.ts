import { getServices, redirectTo, tokenOf } from '../../../lib/services';

export async function POST(req: Request): Promise<Response> {
  const services = await getServices();
  const user = await services.auth.session(tokenOf(req));
  if (!user) return redirectTo(req, '/');
  const name = String((await req.formData()).get('name') ?? '').trim() || 'general';
  if (!(await services.permissions.check(user.userId, 'create', 'room'))) {
    return redirectTo(req, `/rooms?error=${encodeURIComponent('You may not create rooms')}`);
  }
  await services.rooms.create(name, user.userId);
  return redirectTo(req, '/rooms');
}
