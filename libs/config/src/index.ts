import './require-node.js';
export { CONFIG_KEYS, configSchema, type AppConfig } from './config.schema.js';
export { ConfigError, loadConfig, parseConfig } from './load-config.js';
export { APP_CONFIG, ConfigModule } from './config.module.js';
