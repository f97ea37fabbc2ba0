/**
 * Per-org Prometheus metrics (each peer has its own operations endpoint, as in Fabric): blocks
 * committed, transactions by validation code, endorsement and commit latency.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { txCodeName } from '../peer/validationCodes';

export class PeerMetrics {
  readonly registry = new Registry();
  private readonly blocks: Counter<string>;
  private readonly txs: Counter<'validation_code'>;
  private readonly endorse: Histogram<'status'>;
  private readonly commit: Histogram<string>;

  constructor(readonly org: string, readonly channel: string, withDefaults = false) {
    this.registry.setDefaultLabels({ org, channel });
    this.blocks = new Counter({ name: 'ledger_blocks_committed_total', help: 'Blocks committed to the ledger', registers: [this.registry] });
    this.txs = new Counter({
      name: 'ledger_transactions_total', help: 'Committed transactions by validation code', labelNames: ['validation_code'], registers: [this.registry],
    });
    this.endorse = new Histogram({
      name: 'endorser_proposal_duration_seconds', help: 'Time to process a proposal (simulation + signing)', labelNames: ['status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [this.registry],
    });
    this.commit = new Histogram({
      name: 'ledger_block_processing_time_seconds', help: 'Time to validate and commit a block',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [this.registry],
    });
    if (withDefaults) collectDefaultMetrics({ register: this.registry });
  }

  blockCommitted(codes: number[], durationMs: number): void {
    this.blocks.inc();
    for (const c of codes) this.txs.inc({ validation_code: txCodeName(c) });
    this.commit.observe(durationMs / 1000);
  }

  proposalProcessed(durationMs: number, endorsed: boolean): void {
    this.endorse.observe({ status: endorsed ? 'endorsed' : 'not_endorsed' }, durationMs / 1000);
  }
}
