/**
 * Persistent registry of one Fabric CA: registered identities, issued certificates and their
 * revocation state. Kept in memory and written to `<dir>/registry.json` after every change via
 * write-to-temp + fsync + rename, so a crash leaves either the old or the new file, never half of one.
 * Secrets are stored as salted scrypt hashes (Fabric CA stores bcrypt hashes; same idea).
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';

export interface RegisteredAttribute {
  name: string;
  value: string;
  ecert: boolean;
}

export interface RegisteredIdentity {
  id: string;
  type: string;
  affiliation: string;
  attrs: RegisteredAttribute[];
  /** -1 = unlimited */
  maxEnrollments: number;
  enrollments: number;
  /** 0 active, -1 revoked (Fabric CA's `state` column) */
  state: number;
  secretSalt: string;
  secretHash: string;
}

export interface CertRecord {
  id: string;
  serialHex: string; // normalised
  akiHex: string; // normalised
  pem: string;
  status: 'good' | 'revoked';
  revokedAt?: string; // ISO
  reason?: number;
  notAfter: string; // ISO
}

interface RegistryFile {
  version: 1;
  identities: RegisteredIdentity[];
  certificates: CertRecord[];
}

// Modest scrypt cost: these secrets are random enrolment passwords, not user passwords.
const SCRYPT = { N: 4096, r: 8, p: 1 } as const;

export function hashSecret(secret: string, saltHex?: string): { salt: string; hash: string } {
  const salt = saltHex ?? randomBytes(16).toString('hex');
  const hash = scryptSync(secret, Buffer.from(salt, 'hex'), 32, SCRYPT).toString('hex');
  return { salt, hash };
}

export function secretMatches(identity: RegisteredIdentity, secret: string): boolean {
  const { hash } = hashSecret(secret, identity.secretSalt);
  return timingSafeEqual(Buffer.from(hash, 'hex'), Buffer.from(identity.secretHash, 'hex'));
}

export class CaRegistry {
  private readonly file: string;
  private readonly identities = new Map<string, RegisteredIdentity>();
  private readonly certs = new Map<string, CertRecord>(); // key serial|aki

  private constructor(private readonly dir: string) {
    this.file = join(dir, 'registry.json');
  }

  /** Opens (or creates) the registry in `dir`. */
  static open(dir: string): CaRegistry {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const r = new CaRegistry(dir);
    let text: string | undefined;
    try {
      text = readFileSync(r.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (text !== undefined) {
      const data = JSON.parse(text) as RegistryFile;
      if (data.version !== 1) throw new Error(`${r.file}: unsupported registry version ${String(data.version)}`);
      for (const i of data.identities) r.identities.set(i.id, i);
      for (const c of data.certificates) r.certs.set(`${c.serialHex}|${c.akiHex}`, c);
    }
    return r;
  }

  get directory(): string {
    return this.dir;
  }

  getIdentity(id: string): RegisteredIdentity | undefined {
    return this.identities.get(id);
  }

  putIdentity(identity: RegisteredIdentity): void {
    this.identities.set(identity.id, identity);
    this.save();
  }

  getCert(serialHex: string, akiHex: string): CertRecord | undefined {
    return this.certs.get(`${serialHex}|${akiHex}`);
  }

  certsOf(id: string): CertRecord[] {
    return [...this.certs.values()].filter((c) => c.id === id);
  }

  allCerts(): CertRecord[] {
    return [...this.certs.values()];
  }

  putCert(rec: CertRecord): void {
    this.certs.set(`${rec.serialHex}|${rec.akiHex}`, rec);
    this.save();
  }

  /** Applies several changes and persists once. */
  batch(fn: () => void): void {
    const save = this.save;
    let dirty = false;
    this.save = () => {
      dirty = true;
    };
    try {
      fn();
    } finally {
      this.save = save;
      if (dirty) this.save();
    }
  }

  private save = (): void => {
    const data: RegistryFile = {
      version: 1,
      identities: [...this.identities.values()],
      certificates: [...this.certs.values()],
    };
    const tmp = `${this.file}.tmp-${process.pid}`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, JSON.stringify(data, null, 1));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.file);
  };
}
