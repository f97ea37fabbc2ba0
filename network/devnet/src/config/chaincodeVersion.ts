/**
 * The version of the chaincode definition the devnet runs. On Fabric the version is a label of the
 * committed lifecycle definition (its EndorsementInfo.Version, the `-v` of `peer lifecycle chaincode
 * approveformyorg/commit`), which peers write into every ChaincodeAction's chaincode_id
 * (F core/endorser/endorser.go: `pb.ChaincodeID{Name: up.ChaincodeName, Version: cdLedger.Version}`)
 * and report in Discovery's state info (F core/chaincode/lifecycle/cache.go fills the metadata's
 * Version from Definition.EndorsementInfo.Version; F common/chaincode/metadata.go AsChaincodes). Our Fabric
 * tier commits each chaincode with its package version (network/fabric/lib/chaincode.sh
 * chaincode_version, so `health:ping` and `querycommitted` agree); the devnet's definitions are the
 * network config's chaincodes, and it reports the same version from the same source.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** network/devnet/{src,dist}/config → the repository root */
const REPO_ROOT = resolve(__dirname, '..', '..', '..', '..');

/** chaincode.sh's fallback for a chaincode without a readable package.json version */
export const DEFAULT_CHAINCODE_VERSION = '1.0';

/** Where a chaincode's source lives, as chaincode.sh chaincode_source_dir has it. */
export function chaincodeSourceDir(name: string, repoRoot = REPO_ROOT): string {
  if (name === 'gridledger') return join(repoRoot, 'chaincode');
  if (name === 'conformance') return join(repoRoot, 'test', 'conformance-chaincode');
  return join(repoRoot, 'test', `${name}-chaincode`);
}

export function chaincodeDefinitionVersion(name: string, repoRoot = REPO_ROOT): string {
  try {
    const pkg = JSON.parse(readFileSync(join(chaincodeSourceDir(name, repoRoot), 'package.json'), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' && pkg.version !== '' ? pkg.version : DEFAULT_CHAINCODE_VERSION;
  } catch {
    return DEFAULT_CHAINCODE_VERSION;
  }
}
