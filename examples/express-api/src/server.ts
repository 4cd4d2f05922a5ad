import { servicesFromEnv } from '@app-examples/shared';
import { createApp } from './app.js';

const services = await servicesFromEnv(); // REDIS_URL, DATABASE_URL, INSTANCE_NAME, OTP_SECRET
const port = Number(process.env.PORT ?? 3001);
const server = createApp(services).listen(port, () => {
  console.log(
    `express-api (${services.mode}, instance ${services.instanceName}) on http://localhost:${port}`,
  );
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.close();
    server.closeAllConnections();
    void services.close().then(() => process.exit(0));
  });
}
