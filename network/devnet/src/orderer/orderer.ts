/**
 * The devnet's ordering service for one channel: Broadcast checks (F orderer/common/broadcast,
 * msgprocessor: well-formed envelope, creator valid and not revoked, signature valid and low-S,
 * creator satisfies /Channel/Writers), block cutting (BatchSize/BatchTimeout) and block
 * construction with chained header hashes. Cut blocks are handed, strictly in order, to the
 * deliver callback (the committer). Like Raft it does not de-duplicate txids (P§8.12).
 */
import { randomBytes } from 'node:crypto';
import { common } from '@hyperledger/fabric-protos';
import type { ChannelMsp, PeerIdentity } from '../peer/deps';
import { parseEnvelopeHeader } from '../peer/transaction';
import { CertCache } from '../peer/verifierCache';
import { buildBlock, blockHeaderHash, signBlock } from './block';
import { BlockCutter } from './blockCutter';

export interface BroadcastResult {
  status: number; // common.Status
  info: string;
}

export interface OrdererOptions {
  channel: string;
  msp: ChannelMsp;
  maxMessageCount: number;
  timeoutMs: number;
  /** number of the next block and the header hash of the previous one (restart continues the chain) */
  nextBlockNumber: number;
  previousHash: Buffer;
  deliver: (block: common.Block) => Promise<void>;
  onError?: (err: unknown) => void;
  /** clock for the identity expiry check (tests) */
  now?: () => number;
  /** parsed certificate facts, shared with the peers' verifier */
  certs?: CertCache;
  /** the orderer node identity that signs every block (SIGNATURES metadata) */
  signer?: { serialized: Buffer; sign(message: Uint8Array): Buffer };
}

export class OrdererStoppedError extends Error {
  constructor() {
    super('ordering service is shutting down');
    this.name = 'OrdererStoppedError';
  }
}

/** Writers of the channel = ANY org's Writers = admin or client (test-network configtx). */
const WRITER_ROLES = new Set(['admin', 'client']);
const WRITERS_POLICY_ERROR =
  "implicit policy evaluation failed - 0 sub-policies were satisfied, but this policy requires 1 of the 'Writers' sub-policies to be satisfied";

export class Orderer {
  private readonly cutter: BlockCutter<Buffer>;
  private readonly now: () => number;
  private readonly certs: CertCache;
  private timer: NodeJS.Timeout | undefined;
  private nextNumber: number;
  private previousHash: Buffer;
  private delivering: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly opts: OrdererOptions) {
    this.cutter = new BlockCutter<Buffer>(opts.maxMessageCount);
    this.now = opts.now ?? Date.now;
    this.certs = opts.certs ?? new CertCache();
    this.nextNumber = opts.nextBlockNumber;
    this.previousHash = opts.previousHash;
  }

  /** Broadcast: checks the envelope and enqueues it; SUCCESS means "accepted for ordering". */
  broadcast(envelopeBytes: Uint8Array): BroadcastResult {
    if (this.stopped) return { status: common.Status.SERVICE_UNAVAILABLE, info: 'ordering service is shutting down' };
    const check = this.checkEnvelope(envelopeBytes);
    if (check) return check;
    for (const batch of this.cutter.ordered(Buffer.from(envelopeBytes))) this.emit(batch);
    if (this.cutter.pendingCount > 0 && !this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        const batch = this.cutter.cut();
        if (batch.length > 0) this.emit(batch);
      }, this.opts.timeoutMs);
    } else if (this.cutter.pendingCount === 0 && this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    return { status: common.Status.SUCCESS, info: '' };
  }

  private checkEnvelope(envelopeBytes: Uint8Array): BroadcastResult | undefined {
    let h;
    try {
      h = parseEnvelopeHeader(envelopeBytes);
    } catch (err) {
      return { status: common.Status.BAD_REQUEST, info: `bad envelope: ${(err as Error).message}` };
    }
    if (h.channelId !== this.opts.channel) {
      return { status: common.Status.NOT_FOUND, info: `channel ${h.channelId} not found` };
    }
    let creator: PeerIdentity;
    try {
      creator = this.opts.msp.deserialize(h.creator);
    } catch {
      // Fabric logs why the creator failed; the client only sees the policy text.
      return { status: common.Status.FORBIDDEN, info: `${WRITERS_POLICY_ERROR}: permission denied` };
    }
    // ExpirationCheck capability: only the orderer looks at NotAfter (the MSP ignores expiry, P§8.14).
    if (this.isExpired(creator)) return { status: common.Status.BAD_REQUEST, info: 'broadcast client identity expired' };
    if (!this.opts.msp.verify(creator, h.payloadBytes, h.signature) || !WRITER_ROLES.has(creator.role)) {
      return { status: common.Status.FORBIDDEN, info: `${WRITERS_POLICY_ERROR}: permission denied` };
    }
    return undefined;
  }

  private emit(envelopes: Buffer[]): void {
    const block = buildBlock(this.nextNumber, this.previousHash, envelopes);
    if (this.opts.signer) signBlock(block, this.opts.signer, randomBytes(24));
    this.nextNumber += 1;
    this.previousHash = blockHeaderHash(block.getHeader()!);
    this.delivering = this.delivering.then(() => this.opts.deliver(block)).catch((err) => this.opts.onError?.(err));
  }

  private isExpired(creator: PeerIdentity): boolean {
    const facts = this.certs.get(creator);
    return facts !== null && facts.notAfter < this.now();
  }

  /** Number the next cut block will get. */
  get height(): number {
    return this.nextNumber;
  }

  /** Stops accepting, cuts what is pending (finish the current block) and waits until it is delivered. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.cutter.cut();
    if (batch.length > 0) this.emit(batch);
    await this.delivering;
  }
}
