// The watchable in-memory ConfigSource and the deferred gate come from @app/core/testing.
export { deferred, memoryConfigSource as memoryConfig } from '@app/core/testing';

/** Lets every queued microtask and pending I/O callback run. */
export const flush = () => new Promise<void>((r) => setImmediate(r));
