import { getServices, redirectTo, SESSION_COOKIE, tokenOf } from '../../../../lib/services';

export async function POST(req: Request): Promise<Response> {
  const token = tokenOf(req);
  if (token) await (await getServices()).auth.signOut(token);
  const res = redirectTo(req, '/');
  res.headers.append('set-cookie', `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`);
  return res;
}
