import fs from 'node:fs';
import path from 'node:path';
import { ApiKeyStore, generateApiKey, hashApiKey, readBootstrapFile } from '../src/auth/apiKeys';
import { checkMeter, checkRoles } from '../src/auth/middleware';
import { ConfigError } from '../src/config';
import { HttpProblem } from '../src/rest/problem';
import { openDatabase } from '../src/store/db';
import { tmpDir } from './helpers/tmp';

describe('API keys', () => {
  it('are high-entropy and stored only as SHA-256 hashes', () => {
    const k = generateApiKey();
    expect(k).toMatch(/^glk_[A-Za-z0-9_-]{43}$/);
    expect(generateApiKey()).not.toBe(k);
    const dir = tmpDir();
    const db = openDatabase(dir);
    const store = new ApiKeyStore(db);
    const issued = store.issueMeterKey('m-1');
    expect(store.lookup(issued.apiKey)).toEqual({ keyId: issued.keyId, name: 'meter m-1', roles: ['meter'], meters: ['m-1'] });
    const rows = db.prepare('SELECT * FROM api_keys').all() as Array<Record<string, unknown>>;
    expect(JSON.stringify(rows)).not.toContain(issued.apiKey);
    expect(rows[0]!.key_hash).toBe(hashApiKey(issued.apiKey));
    expect(store.revokeKeysForMeter('m-1')).toBe(1);
    expect(store.lookup(issued.apiKey)).toBeUndefined();
    db.close();
  });

  it('bootstrap file: validated, replaces earlier bootstrap keys, keeps issued keys', () => {
    const dir = tmpDir();
    const file = path.join(dir, 'keys.yaml');
    const op = generateApiKey();
    fs.writeFileSync(file, `apiKeys:\n  - id: op1\n    sha256: ${hashApiKey(op)}\n    roles: [operator]\n`);
    const db = openDatabase(dir);
    const store = new ApiKeyStore(db);
    const meterKey = store.issueMeterKey('m-1').apiKey;
    store.loadBootstrap(readBootstrapFile(file));
    expect(store.lookup(op)?.roles).toEqual(['operator']);
    store.loadBootstrap([]);
    expect(store.lookup(op)).toBeUndefined();
    expect(store.lookup(meterKey)).toBeDefined();
    db.close();
  });

  it('bootstrap file errors name the entry and the fix', () => {
    const dir = tmpDir();
    const file = path.join(dir, 'keys.json');
    fs.writeFileSync(file, JSON.stringify({ apiKeys: [{ id: 'a', sha256: 'xyz', roles: ['admin'] }, { id: 'b', sha256: 'a'.repeat(64), roles: ['meter'] }] }));
    try {
      readBootstrapFile(file);
      throw new Error('expected failure');
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const msg = (e as ConfigError).message;
      expect(msg).toMatch(/\/apiKeys\/0\/sha256 must match pattern/);
      expect(msg).toMatch(/\/apiKeys\/0\/roles\/0 must be equal to one of the allowed values/);
    }
    fs.writeFileSync(file, JSON.stringify({ apiKeys: [{ id: 'b', sha256: 'a'.repeat(64), roles: ['meter'] }] }));
    expect(() => readBootstrapFile(file)).toThrow(/key b has role meter but lists no meters/);
  });
});

describe('authorisation checks', () => {
  const meterKey = { keyId: 'k1', name: 'k1', roles: ['meter' as const], meters: ['m-1'] };
  it('a meter key acts only for its own meters', () => {
    expect(() => checkMeter(meterKey, 'm-1')).not.toThrow();
    let err: unknown;
    try {
      checkMeter(meterKey, 'm-2');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HttpProblem);
    expect(err).toMatchObject({ status: 403, slug: 'forbidden-meter', message: 'API key k1 may act only for meter(s) m-1, not for meter m-2' });
  });
  it('roles are checked with a reason', () => {
    expect(() => checkRoles(meterKey, ['operator'])).toThrow('this endpoint is for operator keys; API key k1 has role(s) meter');
    expect(() => checkRoles({ ...meterKey, roles: ['operator'] }, ['operator', 'regulator'])).not.toThrow();
  });
});
