import { getServices, redirectTo } from '../../../../lib/services';

export async function POST(req: Request): Promise<Response> {
  const form = await req.formData();
  const phone = String(form.get('phone') ?? '').trim();
  const services = await getServices();
  try {
    const ip = req.headers.get('x-forwarded-for')?.split(',')[0]?.trim();
    const { challengeId } = await services.auth.sendCode(phone, ip);
    return redirectTo(
      req,
      `/?phone=${encodeURIComponent(phone)}&challenge=${encodeURIComponent(challengeId)}`,
    );
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return redirectTo(req, `/?phone=${encodeURIComponent(phone)}&error=${encodeURIComponent(message)}`);
  }
}
