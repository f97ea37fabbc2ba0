import client from 'prom-client';
import type { FailureClass } from '../fabric/errors';

/** Prometheus metrics, in a registry of their own (several gateways may live in one test process). */
export class Metrics {
  readonly registry = new client.Registry();
  readonly httpRequests = new client.Counter({
    name: 'gateway_http_requests_total',
    help: 'HTTP requests by operation, method and status',
    labelNames: ['operation', 'method', 'status'],
    registers: [this.registry],
  });
  readonly httpDuration = new client.Histogram({
    name: 'gateway_http_request_duration_seconds',
    help: 'HTTP request latency by operation',
    labelNames: ['operation', 'method'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly submitDuration = new client.Histogram({
    name: 'gateway_fabric_submit_duration_seconds',
    help: 'Synchronous submit latency (endorse + order + commit status), by function and outcome',
    labelNames: ['function', 'outcome'],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  readonly deliveryDuration = new client.Histogram({
    name: 'gateway_queue_delivery_seconds',
    help: 'Time from a receipt being queued to its final state (committed / rejected)',
    labelNames: ['outcome'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800],
    registers: [this.registry],
  });
  readonly queueInFlight = new client.Gauge({
    name: 'gateway_queue_in_flight',
    help: 'Queue transactions in flight now (endorsed or being endorsed, not yet settled); at most one per meter',
    registers: [this.registry],
  });
  readonly queueTransactionReceipts = new client.Histogram({
    name: 'gateway_queue_transaction_receipts',
    help: 'Queued receipts delivered by one transaction (> 1: coalesced single readings of one meter)',
    buckets: [1, 2, 4, 8, 16, 32, 64, 96],
    registers: [this.registry],
  });
  readonly queueTransactionReadings = new client.Histogram({
    name: 'gateway_queue_transaction_readings',
    help: 'Readings carried by one queue transaction',
    buckets: [1, 2, 4, 8, 16, 32, 64, 96],
    registers: [this.registry],
  });
  readonly groupCommitWrites = new client.Histogram({
    name: 'gateway_store_group_commit_writes',
    help: 'Writes (queued receipts, state changes) committed by one SQLite transaction (one fsync)',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
    registers: [this.registry],
  });
  readonly groupCommitDuration = new client.Histogram({
    name: 'gateway_store_group_commit_seconds',
    help: 'Time to run and commit (fsync) one group of writes',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
    registers: [this.registry],
  });
  readonly retries = new client.Counter({
    name: 'gateway_fabric_retries_total',
    help: 'Retries of ledger submissions by reason (conflict = MVCC/phantom → new proposal; endorsement-mismatch = peers returned different results → new proposal; retry-endorse; resend; unknown-outcome)',
    labelNames: ['reason', 'path'],
    registers: [this.registry],
  });
  readonly beaconContributions = new client.Counter({
    name: 'gateway_beacon_contributions_total',
    help: "This utility's beacon contributions by outcome (contributed, superseded = the round had its beacon or moved on, refused = the ledger will never accept it, retry)",
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  readonly beaconPending = new client.Gauge({
    name: 'gateway_beacon_pending',
    help: 'Beacon contributions waiting to be (re)tried',
    registers: [this.registry],
  });
  readonly eventsCheckpointBlock = new client.Gauge({
    name: 'gateway_events_checkpoint_block',
    help: 'Block of the last chaincode event the beacon listener handled',
    registers: [this.registry],
  });
  readonly analyticsCheckpointBlock = new client.Gauge({
    name: 'gateway_analytics_checkpoint_block',
    help: 'Block of the last transaction the analytics store applied (docs/dashboard.md)',
    registers: [this.registry],
  });
  readonly analyticsEvents = new client.Counter({
    name: 'gateway_analytics_events_total',
    help: 'Named chaincode events the analytics store applied (rate() is its ingest rate)',
    registers: [this.registry],
  });
  readonly agentDuties = new client.Counter({
    name: 'gateway_agent_duties_total',
    help: "Agent duties ended, by kind (member, household, offer-expire, trade-timeout, auction-close, auction-expire, task-redraw, task-draw, index-sync, score-fold) and outcome (done, failed)",
    labelNames: ['kind', 'outcome'],
    registers: [this.registry],
  });
  readonly agentActs = new client.Counter({
    name: 'gateway_agent_acts_total',
    help: 'Acts the agents submitted, by act (enter, vote, decide, or the keeper duty) and outcome (acted, lost-race = already done on the ledger, refused, retry)',
    labelNames: ['act', 'outcome'],
    registers: [this.registry],
  });
  readonly agentEvaluations = new client.Counter({
    name: 'gateway_agent_evaluations_total',
    help: 'Ledger reads (evaluations: a signed proposal each, through the gateway and the chaincode) the agents made, by chaincode function',
    labelNames: ['fn'],
    registers: [this.registry],
  });
  readonly agentWakeupsSkipped = new client.Counter({
    name: 'gateway_agent_wakeups_skipped_total',
    help: 'Events that would have woken an agent duty to re-read the ledger but whose outcome the event itself decides (docs/agents.md §1 "Wake-ups"), by rule',
    labelNames: ['rule'],
    registers: [this.registry],
  });
  readonly agentLag = new client.Histogram({
    name: 'gateway_agent_act_lag_seconds',
    help: 'Time from the event or ledger time that made an agent act due to the act committed, by duty kind',
    labelNames: ['kind'],
    buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [this.registry],
  });
  readonly agentDecideGap = new client.Gauge({
    name: 'gateway_agent_decide_gap_seconds',
    help: 'Gap between committee members\' decide turns, derived from the commit latency of this gateway\'s acts (docs/agents.md §2)',
    registers: [this.registry],
  });
  readonly agentPending = new client.Gauge({
    name: 'gateway_agent_pending_duties',
    help: 'Agent duties not finished yet, by kind',
    labelNames: ['kind'],
    registers: [this.registry],
  });
  readonly sseClients = new client.Gauge({
    name: 'gateway_sse_clients',
    help: 'Open Server-Sent Events streams',
    registers: [this.registry],
  });
  readonly meterKeyRegistrations = new client.Counter({
    name: 'gateway_meter_key_registrations_total',
    help: "Meters' meters:registerKey attempts by outcome (registered; refused = a typed ledger refusal, not retried for that certificate; retry = tried again later)",
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  /** the wallet's count of refused keys (set by createApp) */
  meterKeysRefusedSource: (() => number) | undefined;
  readonly meterKeysRefused = ((metrics: Metrics) =>
    new client.Gauge({
      name: 'gateway_meter_keys_refused',
      help: "Active meters whose current certificate's key the ledger refused for good (GET /api/v1/meters/{id} ledgerKey says why); their readings go as their own transactions",
      registers: [this.registry],
      collect() {
        const n = metrics.meterKeysRefusedSource?.();
        if (n !== undefined) this.set(n);
      },
    }))(this);
  readonly meterEnrolmentsAgain = new client.Counter({
    name: 'gateway_meter_enrolments_again_total',
    help: 'Meter enrolments the CA refused (an earlier answer lost) that the gateway recovered by giving the identity a new secret and one more enrolment (reset) or by registering it again (registered-again)',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  readonly queueDepth: client.Gauge<'state'>;

  constructor(queueCounts?: () => Record<string, number>) {
    this.queueDepth = new client.Gauge({
      name: 'gateway_queue_depth',
      help: 'Receipts not yet final, by state (queued, submitted)',
      labelNames: ['state'],
      registers: [this.registry],
      collect() {
        if (!queueCounts) return;
        const c = queueCounts();
        // label values stay Prometheus-style lower case, not the API's state values (docs/api.md "Changes in 0.2.0")
        this.set({ state: 'queued' }, c.QUEUED ?? 0);
        this.set({ state: 'submitted' }, c.SUBMITTED ?? 0);
      },
    });
    client.collectDefaultMetrics({ register: this.registry });
  }

  workerHooks() {
    return {
      retry: (reason: FailureClass) => this.retries.inc({ reason, path: 'queue' }),
      delivered: (outcome: 'committed' | 'rejected', seconds: number) => this.deliveryDuration.observe({ outcome }, seconds),
      inFlight: (n: number) => this.queueInFlight.set(n),
      transaction: (receipts: number, readings: number) => {
        this.queueTransactionReceipts.observe(receipts);
        this.queueTransactionReadings.observe(readings);
      },
    };
  }

  groupCommitHook() {
    return (writes: number, seconds: number) => {
      this.groupCommitWrites.observe(writes);
      this.groupCommitDuration.observe(seconds);
    };
  }
}
