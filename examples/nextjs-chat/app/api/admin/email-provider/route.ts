import { getServices, redirectTo } from '../../../../lib/services';

export async function POST(req: Request): Promise<Response> {
  const provider = String((await req.formData()).get('provider') ?? '');
  if (provider !== 'ses' && provider !== 'sendgrid') {
    return Response.json({ error: { message: `unknown provider '${provider}'` } }, { status: 400 });
  }
  await (await getServices()).config.set('email.provider', provider);
  return redirectTo(req, '/admin/email');
}
