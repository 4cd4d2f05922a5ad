import { getServices, redirectTo } from '../../../../lib/services';

export async function POST(req: Request): Promise<Response> {
  const to = String((await req.formData()).get('to') ?? '');
  const services = await getServices();
  await services.email.send({ to, subject: 'Test email from the admin page', text: 'It works.' });
  return redirectTo(req, '/admin/email');
}
