/** JSON Schema (ajv) of the gateway's configuration, after file + environment are merged. */
export const configSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['host', 'port', 'dataDir', 'network'],
  definitions: {
    agentSettings: {
      type: 'object',
      additionalProperties: false,
      properties: {
        behaviour: { enum: ['honest', 'silent', 'approve-all', 'refuse-all', 'withhold-delivery', 'under-deliver', 'lying-buyer'] },
        autopilot: { type: 'boolean', description: 'household autopilot (off by default; on for simulated households)' },
      },
    },
  },
  properties: {
    host: { type: 'string', minLength: 1, description: 'interface to listen on (127.0.0.1 by default)' },
    port: { type: 'integer', minimum: 0, maximum: 65535 },
    dataDir: { type: 'string', minLength: 1 },
    logLevel: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] },
    walletKey: {
      type: 'string',
      pattern: '^(?:[0-9a-fA-F]{64}|[A-Za-z0-9+/]{43}=)$',
      description: '32-byte AES-256-GCM key: 64 hex characters or 44 base64 characters',
    },
    apiKeysFile: { type: 'string', minLength: 1 },
    validateResponses: { type: 'boolean', description: 'check every answer against openapi.yaml (test networks); a mismatch becomes a 500 response-invalid' },
    network: {
      type: 'object',
      additionalProperties: false,
      required: ['path'],
      properties: {
        path: { type: 'string', minLength: 1, description: 'network.json written by the devnet or the Fabric scripts' },
        org: { type: 'string', minLength: 1, description: 'organisation name (or MSP ID) whose peer and operator identity the gateway uses; default: the first in network.json' },
        operatorUser: { type: 'string', minLength: 1 },
        regulatorUser: { type: 'string', minLength: 1 },
        chaincode: { type: 'string', minLength: 1 },
        channel: { type: 'string', minLength: 1 },
        transientEndorsers: {
          type: 'array',
          items: { type: 'string', minLength: 1 },
          description: 'MSP IDs named as endorsers of proposals carrying transient data (default: none — Fabric plans from the chaincode interest)',
        },
      },
    },
    timeouts: {
      type: 'object',
      additionalProperties: false,
      properties: {
        evaluateMs: { type: 'integer', minimum: 1 },
        endorseMs: { type: 'integer', minimum: 1 },
        submitMs: { type: 'integer', minimum: 1 },
        commitStatusMs: { type: 'integer', minimum: 1 },
        syncWaitMs: { type: 'integer', minimum: 0 },
        shutdownMs: { type: 'integer', minimum: 0 },
      },
    },
    retry: {
      type: 'object',
      additionalProperties: false,
      properties: {
        maxAttempts: { type: 'integer', minimum: 1, maximum: 100 },
        baseDelayMs: { type: 'integer', minimum: 0 },
        maxDelayMs: { type: 'integer', minimum: 0 },
      },
    },
    queue: {
      type: 'object',
      additionalProperties: false,
      properties: {
        pollIntervalMs: { type: 'integer', minimum: 1, description: 'longest idle wait of the delivery worker (enqueues and finished deliveries wake it at once)' },
        concurrency: { type: 'integer', minimum: 1, maximum: 1024, description: 'transactions in flight at once, each for a different meter' },
        maxCoalesce: { type: 'integer', minimum: 1, maximum: 96, description: "most queued single readings of a meter sent as one meters:postReadings transaction (the chaincode's MAX_BATCH is 96); 1 = never coalesce" },
        relayBatch: { type: 'integer', minimum: 0, maximum: 96, description: "most readings of different meters relayed in one meters:relayReadings transaction (the chaincode's MAX_RELAY is 96); 0 = never relay (docs/market.md \"Relayed readings\")" },
        relayConcurrency: { type: 'integer', minimum: 1, maximum: 64, description: 'relayed batches in flight at once (fewer, fuller batches under load)' },
        relayLingerMs: { type: 'integer', minimum: 0, maximum: 5000, description: 'how long a relayed batch that is not full waits for more readings, from its oldest reading (a burst gathers into fewer transactions); 0 = never wait' },
        groupCommitMaxDelayMs: { type: 'integer', minimum: 0, maximum: 1000, description: 'how long a write waits for others to share its SQLite commit (0 = the end of the event-loop turn)' },
        groupCommitMaxBatch: { type: 'integer', minimum: 1, description: 'most writes per SQLite commit' },
        retentionDays: { type: 'integer', minimum: 1, description: 'final receipts older than this are deleted (at start and daily)' },
        ledgerThread: { type: 'boolean', description: 'endorse and send transactions in a worker thread, so HTTP acknowledgements never wait behind that work (fabric/ledgerThread.ts)' },
      },
    },
    ca: {
      type: 'object',
      additionalProperties: false,
      properties: {
        maxEnrollments: { type: 'integer', minimum: -1 },
        affiliation: { type: 'string' },
      },
    },
    idempotency: {
      type: 'object',
      additionalProperties: false,
      properties: {
        required: { type: 'boolean' },
        retentionHours: { type: 'integer', minimum: 1 },
        purgeIntervalMinutes: { type: 'integer', minimum: 1, description: 'how often completed keys past retentionHours are purged' },
      },
    },
    beacon: {
      type: 'object',
      additionalProperties: false,
      properties: {
        enabled: { type: 'boolean', description: "contribute this utility's BLS beacon entropy (register the key, listen for TaskOpened)" },
        startBlock: { type: 'integer', minimum: 0, description: 'where the listener starts when it has no checkpoint yet (0 = the whole chain)' },
        retryBaseMs: { type: 'integer', minimum: 1 },
        retryMaxMs: { type: 'integer', minimum: 1 },
        reconnectMs: { type: 'integer', minimum: 1 },
        stepInMs: { type: 'integer', minimum: 0, description: "contributions in turns: after how long per silent utility before it this one steps in (0: no turns, contribute at once)" },
      },
    },
    agents: {
      type: 'object',
      additionalProperties: false,
      description: "the meters' agents (docs/agents.md): committee member and keeper duties for every meter this gateway holds",
      properties: {
        enabled: { type: 'boolean' },
        startBlock: { type: 'integer', minimum: 0, description: 'where the event follower starts when it has no checkpoint yet' },
        reconnectMs: { type: 'integer', minimum: 1 },
        retryBaseMs: { type: 'integer', minimum: 1 },
        retryMaxMs: { type: 'integer', minimum: 1 },
        maxAttempts: { type: 'integer', minimum: 1 },
        concurrency: { type: 'integer', minimum: 1, maximum: 64 },
        keeper: {
          type: 'object',
          additionalProperties: false,
          properties: {
            enabled: { type: 'boolean' },
            marginMs: { type: 'integer', minimum: 0, description: 'how long after a ledger deadline the keeper acts (clock skew)' },
            staggerMs: { type: 'integer', minimum: 0, description: "per-utility offset so the consortium's keepers do not collide" },
            backupMs: { type: 'integer', minimum: 0, description: "how much later than the seller's own utility the other utilities' keepers expire an offer (they stand in if it is down)" },
            fold: {
              type: 'object',
              additionalProperties: false,
              description: "when the keeper folds the score credits of this utility's participants (participants:foldScore; docs/agents.md §3)",
              properties: {
                quietMs: { type: 'integer', minimum: 0, description: 'fold once no new credit arrived for this long' },
                maxAgeMs: { type: 'integer', minimum: 0, description: 'fold once the oldest pending credit is this old, even while credits keep arriving' },
                maxPending: { type: 'integer', minimum: 1, description: 'fold once this many credits are pending, even while credits keep arriving' },
              },
            },
          },
        },
        defaults: { $ref: '#/definitions/agentSettings' },
        meters: { type: 'object', additionalProperties: { $ref: '#/definitions/agentSettings' }, description: 'per meter id' },
      },
    },
    events: {
      type: 'object',
      additionalProperties: false,
      properties: {
        heartbeatMs: { type: 'integer', minimum: 1000, description: 'SSE keep-alive comment interval' },
        maxClients: { type: 'integer', minimum: 1, description: 'concurrent SSE streams (each is one Fabric event stream)' },
      },
    },
  },
} as const;
