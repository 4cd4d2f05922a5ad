import { setFlag } from '@app/flags';
import { getServices, redirectTo } from '../../../../lib/services';

// Toggles a flag's kill switch or sets its rollout. setFlag validates before writing anything; the change
// reaches every instance through @app/config.
export async function POST(
  req: Request,
  { params }: { params: Promise<{ name: string }> },
): Promise<Response> {
  const { name } = await params;
  const form = await req.formData();
  const services = await getServices();
  const current = services.flags.definition(name) ?? { enabled: false };
  const enabled = form.get('enabled');
  const rollout = form.get('rollout');
  await setFlag(services.config, name, {
    ...current,
    ...(enabled !== null ? { enabled: enabled === 'true' } : {}),
    ...(rollout !== null ? { rollout: Number(rollout) } : {}),
  });
  return redirectTo(req, '/flags');
}
