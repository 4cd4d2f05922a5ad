export type { ConfigSource, ConfigWatchCallback, Unsubscribe } from '@app/core';
export { ConfigError, ConfigErrorCode, isConfigError } from './errors.js';
export { inProcessConfigSync } from './in-process-sync.js';
export { createConfigService } from './service.js';
export type * from './service-types.js';
export type {
  ConfigEntry,
  ConfigRecord,
  ConfigStore,
  ConfigSync,
  ConfigSyncListener,
  ConfigTombstone,
  ConfigWriteThrough,
  JsonValue,
  StoreSetOptions,
} from './types.js';
export { MAX_KEY_LENGTH } from './validate.js';
