import { getServices, redirectTo, tokenOf } from '../../../lib/services';

// Sends a chat message; the service publishes `message.sent`, which the analytics handler picks up.
export async function POST(req: Request): Promise<Response> {
  const services = await getServices();
  const user = await services.auth.session(tokenOf(req));
  if (!user) return redirectTo(req, '/');
  const form = await req.formData();
  const roomId = String(form.get('roomId') ?? '');
  const text = String(form.get('text') ?? '').trim();
  if (!text) return redirectTo(req, `/chat?room=${encodeURIComponent(roomId)}`);
  if (!(await services.permissions.check(user.userId, 'send', 'message'))) {
    return Response.json({ error: { message: 'not allowed to send messages' } }, { status: 403 });
  }
  await services.messages.send(roomId, user.userId, text);
  return redirectTo(req, `/chat?room=${encodeURIComponent(roomId)}`);
}
