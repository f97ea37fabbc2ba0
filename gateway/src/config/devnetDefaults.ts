import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { generateApiKey, hashApiKey } from '../auth/apiKeys';
import { selectUser, type NetworkDescriptor } from '../fabric/network';
import { ConfigError, type GatewayConfig } from './index';

/**
 * Devnet conveniences, so `npm start` works with no secrets configured. Never on another tier:
 * - no walletKey: a random key is kept in <dataDir>/wallet.key (0600) — beside the wallet, so it only
 *   protects against copies of the database alone; production passes GATEWAY_WALLET_KEY.
 * - no apiKeysFile: an operator key (and a regulator key if this org holds the regulator identity) is
 *   generated once; hashes in <dataDir>/api-keys.json, the plaintext keys for local use in
 *   <dataDir>/devnet-credentials.json (0600).
 */
export function applyDevnetDefaults(config: GatewayConfig, net: NetworkDescriptor, logger: Logger): GatewayConfig {
  const devnet = net.tier === 'devnet';
  const out: GatewayConfig = { ...config };
  if (!out.walletKey) {
    if (!devnet) throw new ConfigError([`walletKey is required on tier ${net.tier} (set GATEWAY_WALLET_KEY to 32 random bytes, e.g. \`openssl rand -hex 32\`)`]);
    fs.mkdirSync(out.dataDir, { recursive: true, mode: 0o700 });
    const file = path.join(out.dataDir, 'wallet.key');
    if (!fs.existsSync(file)) fs.writeFileSync(file, crypto.randomBytes(32).toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
    out.walletKey = Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'hex');
    logger.warn({ file }, 'devnet: no GATEWAY_WALLET_KEY given; using the wallet key file in the data directory');
  }
  if (!out.apiKeysFile && devnet) {
    const file = path.join(out.dataDir, 'api-keys.json');
    const creds = path.join(out.dataDir, 'devnet-credentials.json');
    if (!fs.existsSync(file)) {
      // A regulator key only where the regulator identity is: elsewhere it could never act.
      const org = net.organizations.find((o) => o.name === out.network.org);
      const withRegulator = org !== undefined && selectUser(org, out.network.regulatorUser, 'regulator') !== undefined;
      const operator = generateApiKey();
      const regulator = withRegulator ? generateApiKey() : undefined;
      fs.writeFileSync(creds, JSON.stringify({ operator, ...(regulator ? { regulator } : {}) }, null, 2) + '\n', { mode: 0o600 });
      const keys = [{ id: 'devnet-operator', sha256: hashApiKey(operator), roles: ['operator'] }];
      if (regulator) keys.push({ id: 'devnet-regulator', sha256: hashApiKey(regulator), roles: ['regulator'] });
      fs.writeFileSync(file, JSON.stringify({ apiKeys: keys }, null, 2) + '\n', { mode: 0o600 });
    }
    out.apiKeysFile = file;
    logger.warn({ credentials: creds }, 'devnet: no GATEWAY_API_KEYS_FILE given; the API keys are in the devnet credentials file');
  }
  return out;
}

