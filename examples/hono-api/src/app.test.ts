import { describeChatApi, fetchCall } from '@app-examples/shared/testing';
import { createApp } from './app.js';

// In process, through Hono's `app.request` (a fetch Request, no socket).
describeChatApi('hono-api', {
  start(services) {
    const app = createApp(services);
    return fetchCall((path, init) => app.request(path, init));
  },
});
