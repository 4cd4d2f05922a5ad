import { getServices, redirectTo, SESSION_COOKIE } from '../../../../lib/services';

export async function POST(req: Request): Promise<Response> {
  const form = await req.formData();
  const phone = String(form.get('phone') ?? '');
  const code = String(form.get('code') ?? '').trim();
  const challengeId = String(form.get('challengeId') ?? '') || undefined;
  const services = await getServices();
  const result = await services.auth.verifyCode(phone, code, challengeId).catch((error: unknown) => ({
    ok: false as const,
    reason: error instanceof Error ? error.message : String(error),
  }));
  if (!result.ok) {
    const back = `/?phone=${encodeURIComponent(phone)}&challenge=${encodeURIComponent(challengeId ?? '')}`;
    return redirectTo(req, `${back}&error=${encodeURIComponent(`Code not accepted: ${result.reason}`)}`);
  }
  const res = redirectTo(req, '/rooms');
  res.headers.append(
    'set-cookie',
    `${SESSION_COOKIE}=${encodeURIComponent(result.token)}; Path=/; HttpOnly; SameSite=Lax; Max-Age=86400`,
  );
  return res;
}
