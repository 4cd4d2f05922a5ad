import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describeChatApi, fetchCall } from '@app-examples/shared/testing';
import { createApp } from './app.js';

let server: Server;

// Express on an ephemeral port, through real HTTP.
describeChatApi('express-api', {
  async start(services) {
    server = createApp(services).listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return fetchCall((path, init) => fetch(`${base}${path}`, init));
  },
  stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
});
