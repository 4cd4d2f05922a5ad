import type { AddressInfo } from 'node:net';
import { describeChatApi, fetchCall } from '@app-examples/shared/testing';
import type { INestApplication } from '@nestjs/common';
import { createApp } from './app.js';

let app: INestApplication;

// NestJS (platform-express) on an ephemeral port, through real HTTP.
describeChatApi('nestjs-api', {
  async start(services) {
    app = await createApp(services, { logger: false });
    await app.listen(0, '127.0.0.1');
    const base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    return fetchCall((path, init) => fetch(`${base}${path}`, init));
  },
  stop: () => app.close(),
});
