import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, configPathFromArgv, loadConfig } from '../src/config';
import { tmpDir } from './helpers/tmp';

const KEY = 'ab'.repeat(32);

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('builds a config from GRIDLEDGER_HOME + GATEWAY_* with defaults', () => {
    const c = loadConfig({ env: { GRIDLEDGER_HOME: '/tmp/home', GATEWAY_ORG: 'utility2', GATEWAY_WALLET_KEY: KEY, GATEWAY_PORT: '0' } });
    expect(c.network).toMatchObject({ path: '/tmp/home/network.json', org: 'utility2', chaincode: 'gridledger' });
    expect(c.dataDir).toBe('/tmp/home/gateway-utility2');
    expect(c.port).toBe(0);
    expect(c.host).toBe('127.0.0.1');
    expect(c.walletKey).toEqual(Buffer.from(KEY, 'hex'));
    expect(c.ca.maxEnrollments).toBe(1);
    expect(c.timeouts.commitStatusMs).toBeGreaterThan(0);
  });

  it('reads a YAML/JSON file (relative paths resolved against it); env wins over the file', () => {
    const dir = tmpDir();
    const file = path.join(dir, 'gw.yaml');
    fs.writeFileSync(file, `port: 9000\ndataDir: data\nwalletKey: ${Buffer.alloc(32, 7).toString('base64')}\nnetwork:\n  path: net/network.json\n  org: utility1\nretry:\n  maxAttempts: 9\n`);
    const c = loadConfig({ argv: ['--config', file], env: { GATEWAY_PORT: '9100' } });
    expect(c.port).toBe(9100);
    expect(c.dataDir).toBe(path.join(dir, 'data'));
    expect(c.network.path).toBe(path.join(dir, 'net/network.json'));
    expect(c.retry).toEqual({ maxAttempts: 9, baseDelayMs: 100, maxDelayMs: 5000 });
    expect(c.walletKey).toEqual(Buffer.alloc(32, 7));
  });

  it('lists every problem and says how to fix it', () => {
    const p = problemsOf(() => loadConfig({ env: { GATEWAY_PORT: 'eighty', GATEWAY_WALLET_KEY: 'short', GATEWAY_LOG_LEVEL: 'loud' } }));
    expect(p).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^dataDir is required .*GATEWAY_DATA_DIR.* or set GRIDLEDGER_HOME/),
        expect.stringMatching(/^network\.path is required .*GATEWAY_NETWORK_FILE.*GRIDLEDGER_HOME/),
        expect.stringMatching(/^port must be integer \(from environment variable GATEWAY_PORT\)/),
        expect.stringMatching(/^walletKey must be 32 random bytes/),
        expect.stringMatching(/^logLevel must be equal to one of the allowed values: \["fatal"/),
      ]),
    );
    const unknown = problemsOf(() => loadConfig({ env: {}, overrides: { dataDir: '/x', walletKey: KEY, network: { path: '/n', org: 'o', peer: 'p' }, colour: 1 } }));
    expect(unknown).toEqual(expect.arrayContaining(['colour is not a known setting', 'network.peer is not a known setting']));
  });

  it('reports an unreadable config file', () => {
    expect(problemsOf(() => loadConfig({ file: '/nonexistent/gw.json', env: {} }))[0]).toMatch(/config file \/nonexistent\/gw.json: ENOENT/);
  });

  it('finds --config in argv', () => {
    expect(configPathFromArgv(['--config', 'a.json'])).toBe('a.json');
    expect(configPathFromArgv(['--config=b.yaml'])).toBe('b.yaml');
    expect(configPathFromArgv([])).toBeUndefined();
  });
});
