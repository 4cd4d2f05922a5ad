// Shared by the benches: times config.set on instance A until instance B's watcher sees the value.
import type { ConfigService } from '../src/index.js';

/** Samples of A -> B propagation of `key` (B must already cache or watch it). */
export function propagationSampler(a: ConfigService, b: ConfigService, key: string) {
  let onChange: ((v: unknown) => void) | undefined;
  b.watch(key, (v) => onChange?.(v));
  let n = 0;
  return {
    /** Sets a (negative) value on A; true when B hears it within `ms`: to wait until B listens. */
    probe(value: number, ms: number): Promise<boolean> {
      const heard = new Promise<boolean>((r) => {
        onChange = (v) => v === value && r(true);
        setTimeout(() => r(false), ms).unref();
      });
      return a.set(key, value).then(() => heard);
    },
    /** Closes both services, then disconnects the clients given. */
    async close(...clients: { disconnect(): void }[]): Promise<void> {
      await a.close();
      await b.close();
      for (const c of clients) c.disconnect();
    },
    /** One propagation, in ms. */
    async sample(): Promise<number> {
      const value = ++n;
      const seen = new Promise<void>((r) => {
        onChange = (v) => v === value && r();
      });
      const t0 = performance.now();
      await a.set(key, value);
      await seen;
      return performance.now() - t0;
    },
  };
}
