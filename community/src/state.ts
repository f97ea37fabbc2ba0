/**
 * The community's persistent state in <stateDir>/state.json (mode 600: it holds meter API keys and
 * auction secrets), written atomically (temp file + rename) after every change that matters, so a
 * restarted simulator acts for the same meters, continues their registers and never re-does what the
 * ledger already has (every POST it repeats carries the same Idempotency-Key anyway).
 * status.json beside it is the public part: what a person or a test reads to see the community.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface MeterState {
  meterId: string;
  org: string;
  zone: string;
  apiKey?: string;
  participantId?: string;
  /** participant status as last read: PENDING | ACTIVE | REJECTED | SUSPENDED | BANNED (the ledger's values) */
  status?: string;
  admissionTaskId?: string;
  joinAttempts: number;
  founder?: boolean;
  funded?: boolean;
  behaviour?: string;
  /** last interval whose reading the gateway acknowledged, and the registers at its end */
  lastIntervalStart?: number;
  importRegisterWh: number;
  exportRegisterWh: number;
  lastReceiptId?: string;
  /** Wh committed (offered, bid or bought) per delivery interval start */
  soldWh: Record<string, number>;
  boughtWh: Record<string, number>;
  /** auctions this meter already bid on (request ids) */
  bidOn: string[];
}

/** A commitment's secret the agents need for reveals and claims (handed over when the route exists). */
export interface AuctionSecret {
  role: 'buyer' | 'seller';
  meterId: string;
  requestId: string;
  secret: string;
  offerId?: string;
  pricePerKwh?: number;
  salt?: string;
  handedOver: boolean;
}

export interface CommunityState {
  version: 1;
  /** wall-clock start of the community's first interval: maps to the profile start */
  epoch?: number;
  /** random per community: auction identity secrets and salts derive from it, never from the seed */
  secret: string;
  meters: Record<string, MeterState>;
  auctions: AuctionSecret[];
}

export class StateStore {
  readonly file: string;
  readonly statusFile: string;
  state: CommunityState;

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.file = join(dir, 'state.json');
    this.statusFile = join(dir, 'status.json');
    this.state = existsSync(this.file)
      ? (JSON.parse(readFileSync(this.file, 'utf8')) as CommunityState)
      : { version: 1, secret: randomBytes(32).toString('hex'), meters: {}, auctions: [] };
  }

  meter(meterId: string, org: string, zone: string): MeterState {
    let m = this.state.meters[meterId];
    if (!m) {
      m = { meterId, org, zone, joinAttempts: 0, importRegisterWh: 0, exportRegisterWh: 0, soldWh: {}, boughtWh: {}, bidOn: [] };
      this.state.meters[meterId] = m;
    }
    return m;
  }

  save(): void {
    writeAtomic(this.file, JSON.stringify(this.state, null, 2) + '\n', 0o600);
  }

  writeStatus(status: unknown): void {
    writeAtomic(this.statusFile, JSON.stringify(status, null, 2) + '\n', 0o644);
  }
}

function writeAtomic(file: string, text: string, mode: number): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode });
  renameSync(tmp, file);
}

/** Drops per-interval bookkeeping older than `before` so the state stays small on a long run. */
export function pruneBefore(m: MeterState, before: number): void {
  for (const map of [m.soldWh, m.boughtWh]) {
    for (const k of Object.keys(map)) if (Number(k) < before) delete map[k];
  }
  if (m.bidOn.length > 200) m.bidOn = m.bidOn.slice(-200);
}
