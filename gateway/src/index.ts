export { loadConfig, ConfigError, type GatewayConfig } from './config';
export { createApp, startGateway, type GatewayDeps, type GatewayApp, type RunningGateway } from './gateway';
export { generateApiKey, hashApiKey } from './auth/apiKeys';
export type { LedgerClient, ActingIdentity } from './fabric/ledger';
export type { MeterCa } from './identity/ca';
