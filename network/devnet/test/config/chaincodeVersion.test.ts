import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chaincodeDefinitionVersion, DEFAULT_CHAINCODE_VERSION } from '../../src/config/chaincodeVersion';

const REPO = join(__dirname, '../../../..');
const versionOf = (dir: string): string => (JSON.parse(readFileSync(join(REPO, dir, 'package.json'), 'utf8')) as { version: string }).version;

describe("the devnet's chaincode definition version (the Fabric tier's chaincode.sh chaincode_version)", () => {
  test("gridledger's is the chaincode package's version, the one health:ping reports", () => {
    const v = chaincodeDefinitionVersion('gridledger');
    expect(v).toBe(versionOf('chaincode'));
    expect(readFileSync(join(REPO, 'chaincode/src/version.ts'), 'utf8')).toContain(`CHAINCODE_VERSION = '${v}'`);
    expect(v).not.toBe(DEFAULT_CHAINCODE_VERSION);
  });

  test("conformance's is test/conformance-chaincode's; test/<name>-chaincode for any other name", () => {
    expect(chaincodeDefinitionVersion('conformance')).toBe(versionOf('test/conformance-chaincode'));
    const root = mkdtempSync(join(tmpdir(), 'gl-ccv-'));
    mkdirSync(join(root, 'test', 'demo-chaincode'), { recursive: true });
    writeFileSync(join(root, 'test', 'demo-chaincode', 'package.json'), JSON.stringify({ name: 'demo', version: '3.1.4' }));
    expect(chaincodeDefinitionVersion('demo', root)).toBe('3.1.4');
  });

  test("without a package.json or a version in it: chaincode.sh's fallback 1.0", () => {
    const root = mkdtempSync(join(tmpdir(), 'gl-ccv-'));
    expect(chaincodeDefinitionVersion('nothing', root)).toBe('1.0');
    mkdirSync(join(root, 'test', 'bare-chaincode'), { recursive: true });
    writeFileSync(join(root, 'test', 'bare-chaincode', 'package.json'), JSON.stringify({ name: 'bare' }));
    expect(chaincodeDefinitionVersion('bare', root)).toBe('1.0');
  });
});
