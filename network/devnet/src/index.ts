/** Public API of the devnet package. */
export { Devnet } from './devnet';
export type { DevnetStartOptions, NetworkJson } from './devnet';
export { loadNetworkConfig, parseNetworkConfig, ConfigError } from './config/networkConfig';
export type { NetworkConfig, OrgConfig, ChaincodeConfig, CollectionConfig } from './config/networkConfig';
export { TxCode, txCodeName } from './peer/validationCodes';
