import { nextConsole } from '@app/console/next';
import { createAppConsole } from '@app-examples/shared';
import { getServices, tokenOf } from '../../../lib/services';

// The operations console at /console, with the demo's signed-in user as operator. Built once per server
// process, on the first request.
export const dynamic = 'force-dynamic';

export const { GET, POST, PUT, DELETE } = nextConsole(async () => {
  const services = await getServices();
  return createAppConsole(services, {
    getSubject: async (request) => (await services.auth.session(tokenOf(request)))?.userId,
  });
});
