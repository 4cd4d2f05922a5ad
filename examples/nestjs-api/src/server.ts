import { servicesFromEnv } from '@app-examples/shared';
import { createApp } from './app.js';

const services = await servicesFromEnv(); // REDIS_URL, DATABASE_URL, INSTANCE_NAME, OTP_SECRET
const port = Number(process.env.PORT ?? 3004);
const app = await createApp(services);
await app.listen(port);
console.log(`nestjs-api (${services.mode}, instance ${services.instanceName}) on http://localhost:${port}`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void app
      .close()
      .then(() => services.close())
      .then(() => process.exit(0));
  });
}
