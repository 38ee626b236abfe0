export { configSchema, defaultConfig, LIVE_KEYS } from './schema.js';
export type { Config, DeclaredCamera, LogLevel } from './schema.js';
export { loadConfig, ConfigError, ENV_PREFIX, CONFIG_FILE_ENV } from './load.js';
export type { LoadedConfig, LoadOptions } from './load.js';
export { ConfigStore, diffKeys } from './store.js';
export type { ConfigChange, ReloadResult } from './store.js';
