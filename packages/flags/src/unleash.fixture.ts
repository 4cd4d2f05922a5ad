// Test helper (not published): unleash-client itself, evaluating a features JSON offline from a bootstrap.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** The part of unleash-client's `Unleash` the tests use. */
export interface UnleashClientLike {
  isEnabled(name: string, context?: Record<string, unknown>): boolean;
  getVariant(
    name: string,
    context?: Record<string, unknown>,
  ): { name: string; enabled: boolean; payload?: unknown; feature_enabled?: boolean };
  destroy(): void;
}

/**
 * Starts unleash-client (the real SDK) on a features JSON, offline: bootstrap data, no polling, no metrics.
 * Resolves once it is ready.
 */
export async function offlineUnleash(json: {
  features: unknown[];
  segments?: unknown[];
}): Promise<UnleashClientLike> {
  const { Unleash, InMemStorageProvider } = require('unleash-client') as {
    Unleash: new (
      config: Record<string, unknown>,
    ) => UnleashClientLike & {
      once(event: string, fn: (arg?: unknown) => void): void;
      on(event: string, fn: (arg?: unknown) => void): void;
    };
    InMemStorageProvider: new () => unknown;
  };
  const unleash = new Unleash({
    appName: 'flags-parity',
    url: 'http://127.0.0.1:9/api/',
    refreshInterval: 0,
    disableMetrics: true,
    skipInstanceCountWarning: true,
    storageProvider: new InMemStorageProvider(),
    bootstrap: { data: json.features, segments: json.segments ?? [] },
  });
  unleash.on('error', () => {});
  unleash.on('warn', () => {});
  await new Promise<void>((resolve) => unleash.once('ready', () => resolve()));
  return unleash;
}
