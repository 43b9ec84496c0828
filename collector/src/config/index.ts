export { collectorConfig, ConfigError, isLoopbackHost, parseConfig } from './collector-config.js';
export type { CollectorConfig, ConfigSources } from './collector-config.js';
export { SETTINGS } from './settings.js';
export type { RedactionRuleSetting, SettingName, SettingSpec } from './settings.js';
export { createLogger, errorKind, silentLogger } from './logger.js';
export type { LogFields, LogLevel, Logger, LoggerOptions } from './logger.js';
