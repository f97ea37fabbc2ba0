import crypto from 'node:crypto';
import fs from 'node:fs';
import Ajv from 'ajv';
import YAML from 'yaml';
import { ConfigError } from '../config';
import { prepared, type Db } from '../store/db';

export type Role = 'operator' | 'regulator' | 'meter';
export const ROLES: readonly Role[] = ['operator', 'regulator', 'meter'];

/** Who is calling: one API key and exactly what it may act for. */
export interface Principal {
  keyId: string;
  name: string;
  roles: Role[];
  /** meters this key may act for (role `meter`) */
  meters: string[];
}

export const API_KEY_PREFIX = 'glk_';

/** A new API key: prefix + 32 random bytes, base64url (256 bits of entropy). */
export function generateApiKey(): string {
  return API_KEY_PREFIX + crypto.randomBytes(32).toString('base64url');
}

/** Keys are high-entropy random strings, so an unsalted SHA-256 is a sufficient one-way hash (no brute force possible). */
export function hashApiKey(key: string): string {
  return crypto.createHash('sha256').update(key, 'utf8').digest('hex');
}

interface BootstrapEntry {
  id: string;
  name?: string;
  sha256: string;
  roles: Role[];
  meters?: string[];
}

const bootstrapSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['apiKeys'],
  properties: {
    apiKeys: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'sha256', 'roles'],
        properties: {
          id: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,64}$' },
          name: { type: 'string', maxLength: 200 },
          sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
          roles: { type: 'array', minItems: 1, uniqueItems: true, items: { enum: ROLES } },
          meters: { type: 'array', uniqueItems: true, items: { type: 'string', minLength: 1 } },
        },
      },
    },
  },
} as const;
const validateBootstrap = new Ajv({ allErrors: true }).compile(bootstrapSchema);

export function readBootstrapFile(file: string): BootstrapEntry[] {
  let parsed: unknown;
  try {
    parsed = YAML.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ConfigError([`apiKeysFile ${file}: ${(e as Error).message}`]);
  }
  if (!validateBootstrap(parsed)) {
    throw new ConfigError(
      (validateBootstrap.errors ?? []).map(
        (e) => `apiKeysFile ${file}: ${e.instancePath || '(root)'} ${e.message ?? 'is invalid'} (entries are {id, name?, sha256: <hex SHA-256 of the key>, roles: [operator|regulator|meter], meters?: [...]})`,
      ),
    );
  }
  const entries = (parsed as { apiKeys: BootstrapEntry[] }).apiKeys;
  const problems: string[] = [];
  for (const e of entries) {
    if (e.roles.includes('meter') && !(e.meters && e.meters.length)) problems.push(`apiKeysFile ${file}: key ${e.id} has role meter but lists no meters`);
    if (!e.roles.includes('meter') && e.meters && e.meters.length) problems.push(`apiKeysFile ${file}: key ${e.id} lists meters but lacks role meter`);
  }
  const ids = new Set<string>();
  for (const e of entries) {
    if (ids.has(e.id)) problems.push(`apiKeysFile ${file}: duplicate key id ${e.id}`);
    ids.add(e.id);
  }
  if (problems.length) throw new ConfigError(problems);
  return entries;
}

/** API keys, stored only as SHA-256 hashes: bootstrap keys from the keys file, meter keys issued at enrolment. */
export class ApiKeyStore {
  constructor(private readonly db: Db) {
    db.exec(`CREATE TABLE IF NOT EXISTS api_keys (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      key_hash TEXT NOT NULL UNIQUE,
      roles TEXT NOT NULL,
      meters TEXT NOT NULL,
      source TEXT NOT NULL CHECK (source IN ('bootstrap', 'issued')),
      revoked_at INTEGER,
      created_at INTEGER NOT NULL
    )`);
  }

  /** Replaces all bootstrap keys with the file's entries (issued meter keys are kept). */
  loadBootstrap(entries: BootstrapEntry[]): void {
    this.db.transaction(() => {
      prepared(this.db, "DELETE FROM api_keys WHERE source = 'bootstrap'").run();
      const ins = prepared(this.db, "INSERT INTO api_keys (id, name, key_hash, roles, meters, source, created_at) VALUES (?, ?, ?, ?, ?, 'bootstrap', ?)");
      for (const e of entries) ins.run(e.id, e.name ?? e.id, e.sha256, JSON.stringify(e.roles), JSON.stringify(e.meters ?? []), Date.now());
    })();
    this.known.clear();
  }

  /** Issues a new key for one meter; the plaintext is returned once and never stored. */
  issueMeterKey(meterId: string): { keyId: string; apiKey: string } {
    const apiKey = generateApiKey();
    const keyId = `meter-${meterId}-${crypto.randomBytes(4).toString('hex')}`;
    prepared(this.db, "INSERT INTO api_keys (id, name, key_hash, roles, meters, source, created_at) VALUES (?, ?, ?, ?, ?, 'issued', ?)")
      .run(keyId, `meter ${meterId}`, hashApiKey(apiKey), JSON.stringify(['meter']), JSON.stringify([meterId]), Date.now());
    return { keyId, apiKey };
  }

  revokeKeysForMeter(meterId: string): number {
    const n = prepared(this.db, "UPDATE api_keys SET revoked_at = ? WHERE source = 'issued' AND revoked_at IS NULL AND meters = ?")
      .run(Date.now(), JSON.stringify([meterId])).changes;
    this.known.clear();
    return n;
  }

  /**
   * Key hash → its principal, for keys found valid. Every request looks its key up; the SELECT and the
   * JSON of roles and meters were ~3% of the gateway's CPU per posted reading on the ingest harness
   * (docs/benchmarks.md "REST ingest"). Only this process writes api_keys, and every change that can
   * invalidate a principal (bootstrap reload, revocation) clears it; unknown keys are never remembered.
   */
  private readonly known = new Map<string, Readonly<Principal>>();
  private static readonly KNOWN_MAX = 100_000;

  /** The principal for a presented key, or undefined if unknown or revoked. */
  lookup(presentedKey: string): Readonly<Principal> | undefined {
    const hash = hashApiKey(presentedKey);
    const known = this.known.get(hash);
    if (known) return known;
    const row = prepared(this.db, 'SELECT id, name, roles, meters FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL').get(hash) as
      | { id: string; name: string; roles: string; meters: string }
      | undefined;
    if (!row) return undefined;
    const principal = Object.freeze({ keyId: row.id, name: row.name, roles: JSON.parse(row.roles) as Role[], meters: JSON.parse(row.meters) as string[] });
    if (!this.db.inTransaction) {
      if (this.known.size >= ApiKeyStore.KNOWN_MAX) this.known.clear();
      this.known.set(hash, principal);
    }
    return principal;
  }
}
