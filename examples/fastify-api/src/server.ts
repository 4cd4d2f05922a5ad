import { servicesFromEnv } from '@app-examples/shared';
import { createApp } from './app.js';

const services = await servicesFromEnv(); // REDIS_URL, DATABASE_URL, INSTANCE_NAME, OTP_SECRET
const app = createApp(services);
app.addHook('onClose', () => services.close());
const port = Number(process.env.PORT ?? 3002);
await app.listen({ port, host: '0.0.0.0' });
console.log(`fastify-api (${services.mode}, instance ${services.instanceName}) on http://localhost:${port}`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void app.close().then(() => process.exit(0)));
}
