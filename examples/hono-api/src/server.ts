import { servicesFromEnv } from '@app-examples/shared';
import { serve } from '@hono/node-server';
import { createApp } from './app.js';

const services = await servicesFromEnv(); // REDIS_URL, DATABASE_URL, INSTANCE_NAME, OTP_SECRET
const port = Number(process.env.PORT ?? 3003);
const server = serve({ fetch: createApp(services).fetch, port }, () => {
  console.log(`hono-api (${services.mode}, instance ${services.instanceName}) on http://localhost:${port}`);
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.close();
    void services.close().then(() => process.exit(0));
  });
}
