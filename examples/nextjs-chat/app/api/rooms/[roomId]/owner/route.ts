import { getServices, redirectTo, tokenOf } from '../../../../../lib/services';

// Demo only: lets the signed-in user make themselves owner of one room, to show a scoped role taking effect.
export async function POST(
  req: Request,
  { params }: { params: Promise<{ roomId: string }> },
): Promise<Response> {
  const services = await getServices();
  const user = await services.auth.session(tokenOf(req));
  if (!user) return redirectTo(req, '/');
  const { roomId } = await params;
  await services.grantRoomOwner(user.userId, roomId);
  return redirectTo(req, '/rooms');
}
