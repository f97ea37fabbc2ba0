/**
 * The channel MSPs' CRLs as the devnet persists them. On Fabric, putting a CRL into an MSP is a
 * channel configuration update (fetch config block, edit MSP `revocation_list`, sign by a
 * majority of admins, submit); the devnet emulates the result — every peer and the orderer
 * validate against the new CRLs from the next check on — and keeps it across restarts in
 * `<home>/channel-config/<channel>/crls/<mspId>.json`.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export class CrlStore {
  private readonly dir: string;

  constructor(home: string, channel: string) {
    this.dir = join(home, 'channel-config', channel, 'crls');
  }

  /** mspId → CRL PEMs, as last saved */
  load(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    let names: string[] = [];
    try {
      names = readdirSync(this.dir);
    } catch {
      return out;
    }
    for (const n of names) {
      if (!n.endsWith('.json')) continue;
      const doc = JSON.parse(readFileSync(join(this.dir, n), 'utf8')) as { mspId: string; crls: string[] };
      out.set(doc.mspId, doc.crls);
    }
    return out;
  }

  save(mspId: string, crls: string[]): void {
    mkdirSync(this.dir, { recursive: true });
    const file = join(this.dir, `${encodeURIComponent(mspId)}.json`);
    // write-then-rename so a crash never leaves a half-written config
    writeFileSync(`${file}.tmp`, JSON.stringify({ mspId, crls }, null, 2));
    renameSync(`${file}.tmp`, file);
  }
}
