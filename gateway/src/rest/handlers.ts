import type { Principal } from '../auth/apiKeys';
import type { ApiKeyStore } from '../auth/apiKeys';
import type { DeliveryWorker } from '../delivery/worker';
import { parseResult } from '../delivery/worker';
import type { ActingIdentity, LedgerClient } from '../fabric/ledger';
import type { Submitter, SubmitOutcome } from '../fabric/submitter';
import { classifyFailure, normalizeLedgerError } from '../fabric/errors';
import type { MeterIdentities } from '../identity/meters';
import { registerOneKey } from '../identity/registerKeys';
import type { MeterRecord } from '../identity/wallet';
import type { Metrics } from '../ops/metrics';
import type { CheckResult } from '../ops/readiness';
import type { Writer } from '../store/groupCommit';
import type { IdempotencyStore } from '../store/idempotency';
import type { DurableQueue, Receipt } from '../store/queue';
import type { ApiSpec, ChaincodeMapping } from './openapi';
import { checkMeter } from '../auth/middleware';
import type { Handler, HandlerContext, Reply } from './app';
import { HttpProblem } from './problem';

export interface HandlerDeps {
  spec: ApiSpec;
  metrics: Metrics;
  apiKeys: ApiKeyStore;
  idempotency: IdempotencyStore;
  queue: DurableQueue;
  /** group commit: queued receipts are acknowledged only once their SQLite transaction committed */
  writes: Writer;
  worker: Pick<DeliveryWorker, 'kick' | 'waitForSettled'>;
  ledger: LedgerClient;
  submitter: Submitter;
  meters: MeterIdentities;
  operator: ActingIdentity;
  regulator: ActingIdentity | undefined;
  /** the organisation whose gateway holds the regulator identity (named in the 403 a regulator call gets elsewhere) */
  regulatorOrg?: string | undefined;
  readiness: () => Promise<{ ready: boolean; checks: Record<string, CheckResult> }>;
  syncWaitMs: number;
  startedAt: number;
}

/** Every time the API answers is integer Unix seconds, like the ledger's (docs/api.md "Changes in 0.2.0"). */
export const unixSeconds = (ms: number) => Math.floor(ms / 1000);
const seconds = (ms: number | null) => (ms === null ? null : unixSeconds(ms));

export function receiptView(r: Receipt) {
  return {
    receiptId: r.id,
    meterId: r.meterId,
    function: r.fn,
    itemCount: r.itemCount,
    state: r.state,
    txId: r.txId,
    blockNumber: r.blockNumber,
    attempts: r.attempts,
    result: r.result,
    reason: r.reason,
    problem: r.problem,
    lastError: r.lastError,
    createdAt: unixSeconds(r.createdAt),
    updatedAt: unixSeconds(r.updatedAt),
  };
}

/** `ledgerKey`: MeterIdentities.ledgerKeyStatus (whether the meter's readings may be relayed, or why not). */
export function meterView(m: MeterRecord, ledgerKey: ReturnType<MeterIdentities['ledgerKeyStatus']> = null) {
  return {
    meterId: m.meterId,
    zone: m.zone,
    mspId: m.mspId,
    enrollmentId: m.enrollmentId,
    status: m.status,
    certificatePem: m.certPem,
    enrolledAt: seconds(m.enrolledAt),
    revokedAt: seconds(m.revokedAt),
    revocationReason: m.revocationReason,
    ledgerTxId: m.ledgerTxId,
    ledgerKey,
  };
}

export function createHandlers(d: HandlerDeps): Record<string, Handler> {
  /**
   * The regulator identity lives at one organisation's gateway (network.json). Elsewhere a regulator call
   * is the caller's mistake — the wrong gateway — so it is a 403 that says which gateway to use, not a 5xx.
   */
  const regulatorIdentity = (): ActingIdentity => {
    if (d.regulator) return d.regulator;
    const where = d.regulatorOrg
      ? `the regulator identity is held by ${d.regulatorOrg}'s gateway: send regulator calls there, with the regulator key it issued`
      : 'no organisation in network.json holds a regulator identity (a user named regulator*, or network.regulatorUser)';
    throw new HttpProblem(403, 'regulator-not-here', 'This gateway has no regulator identity', `this gateway (${d.operator.mspId}) cannot act as the regulator; ${where}`, d.regulatorOrg ? { regulatorOrg: d.regulatorOrg } : {});
  };

  /** The Fabric identity a request acts as: the meter for meter keys, else the gateway's operator / regulator. */
  const actingFor = (p: Principal, meterId?: string): ActingIdentity => {
    if (p.roles.includes('meter') && (meterId || p.meters.length === 1)) {
      const m = meterId ?? p.meters[0]!;
      if (!p.meters.includes(m)) {
        throw new HttpProblem(403, 'forbidden-meter', 'Not your meter', `API key ${p.keyId} may act only for meter(s) ${p.meters.join(', ')}, not for meter ${m}`);
      }
      return d.meters.actingIdentity(m);
    }
    if (p.roles.includes('meter') && p.meters.length > 1 && !p.roles.includes('operator') && !p.roles.includes('regulator')) {
      throw new HttpProblem(400, 'meter-id-required', 'Which meter?', `API key ${p.keyId} acts for several meters (${p.meters.join(', ')}); add ?meterId=<one of them>`);
    }
    if (p.roles.includes('operator')) return d.operator;
    if (p.roles.includes('regulator')) {
      return regulatorIdentity();
    }
    throw new HttpProblem(403, 'forbidden-role', 'Not allowed for this API key', `API key ${p.keyId} has no role that can make this call`);
  };

  const evaluateJson = async (id: ActingIdentity, fn: string, args: string[]): Promise<unknown> => parseResult(await d.ledger.evaluate(id, fn, args));

  /** The identity that signed a stored transaction (its idempotency record keeps the identity's key). */
  const identityByKey = (key: string): ActingIdentity => {
    if (key === d.operator.key) return d.operator;
    if (d.regulator && key === d.regulator.key) return d.regulator;
    if (key.startsWith('meter:')) return d.meters.actingIdentity(key.slice('meter:'.length));
    throw new HttpProblem(500, 'internal', 'Internal error', `cannot resume a submission signed by unknown identity ${key}`);
  };

  /** Finishes the transaction stored under the Idempotency-Key (same tx id); undefined if it turned out invalid by a conflict (then a new proposal is due). */
  const resendStored = async (ctx: HandlerContext): Promise<SubmitOutcome | undefined> => {
    const r = ctx.resume;
    if (!r?.txBytes) return undefined;
    const signer = identityByKey(r.actingKey); // if it fails, the stored transaction stays for a later try
    ctx.resume = undefined; // one stored transaction per request
    try {
      return await d.submitter.resend(signer, r.txBytes);
    } catch (e) {
      const err = normalizeLedgerError(e, 'submit');
      if (classifyFailure(err) !== 'conflict') throw err;
      // that tx id is final and INVALID (MVCC/phantom): nothing happened, so this request may endorse anew
      d.metrics.retries.inc({ reason: 'conflict', path: 'sync' });
      return undefined;
    }
  };

  const submitSync = async (ctx: HandlerContext, id: ActingIdentity, fn: string, args: string[], transient?: Record<string, string>): Promise<Reply> => {
    const started = process.hrtime.bigint();
    let outcome = 'error';
    try {
      const r =
        (await resendStored(ctx)) ??
        (await d.submitter.submit(id, fn, args, {
          onEndorsed: (tx) => {
            if (ctx.idempotency) d.idempotency.notePrepared(ctx.idempotency.principal, ctx.idempotency.key, tx.txId, tx.bytes, id.key);
          },
          onRetry: (cls, attempt, err) => {
            d.metrics.retries.inc({ reason: cls, path: 'sync' });
            const line = { fn, cls, attempt, error: err.message, details: err.details.map((x) => `${x.mspId}: ${x.message}`) };
            if (cls === 'endorsement-mismatch') ctx.req.log?.warn(line, 'endorsements differed between peers; endorsing a new proposal');
            else ctx.req.log?.info(line, 'retrying the submission');
          },
        }, transient));
      outcome = 'committed';
      return { status: 201, body: { txId: r.txId, blockNumber: r.blockNumber, attempts: r.attempts, result: parseResult(r.result) } };
    } finally {
      d.metrics.submitDuration.observe({ function: fn, outcome }, Number(process.hrtime.bigint() - started) / 1e9);
    }
  };

  /**
   * The meter records its own certificate's key on the ledger (meters:registerKey, signed by the meter),
   * so its readings may be relayed in cross-meter batches (delivery/worker.ts). Best effort: without it
   * the meter's readings simply go as its own transactions.
   */
  // best effort: a failure is retried by the background registration (identity/registerKeys.ts), a
  // final refusal is recorded and shown in the answer's `ledgerKey`
  const registerLedgerKey = async (ctx: HandlerContext, meterId: string): Promise<void> => {
    await registerOneKey(
      { meters: d.meters, submit: (id, fn, args) => d.submitter.submit(id, fn, args), logger: ctx.req.log, count: (outcome) => d.metrics.meterKeyRegistrations.inc({ outcome }) },
      meterId,
    );
  };

  const receiptReply = (r: Receipt): Reply => ({ status: 202, body: receiptView(r), headers: { Location: `/api/v1/receipts/${r.id}` } });

  /**
   * Queues a submission. The receipt and the Idempotency-Key record are written in ONE SQLite
   * transaction: either the 202 is stored as the key's answer, or (`answerLater`, for `?sync=true`) the
   * receipt id is, and the answer is stored once the request has waited for it. That transaction is a
   * savepoint of a group commit shared with the other requests of the moment (store/groupCommit.ts):
   * this resolves — and the 202 goes out — only after the group's COMMIT (fsync) returned.
   */
  const enqueue = async (
    ctx: HandlerContext,
    meterId: string,
    fn: string,
    transient: Record<string, string>,
    itemCount: number,
    answerLater = false,
  ): Promise<{ receipt: Receipt; reply: Reply }> => {
    const out = await d.writes.run(() => {
      // The reading goes in the transient map with an empty argument, so raw values never appear in a block
      // (only the utility's private collection keeps them; chaincode meters.contract.ts).
      const receipt = d.queue.enqueue({ meterId, principal: ctx.principal!.keyId, fn, args: [''], transient, itemCount });
      const reply = receiptReply(receipt);
      if (ctx.idempotency) {
        const { principal, key } = ctx.idempotency;
        if (answerLater) d.idempotency.noteReceipt(principal, key, receipt.id);
        else {
          d.idempotency.complete(principal, key, { status: 202, headers: reply.headers!, body: reply.body });
          reply.idempotencyDone = true;
        }
      }
      return { receipt, reply };
    });
    d.worker.kick();
    return out;
  };

  /** `?sync=true`: waits (bounded) for the receipt to settle; 200 once committed, else 202 with its state then. */
  const awaitReceipt = async (receipt: Receipt): Promise<Reply> => {
    const settled = (await d.worker.waitForSettled(receipt.id, d.syncWaitMs)) ?? receipt;
    return { ...receiptReply(settled), status: settled.state === 'COMMITTED' ? 200 : 202 };
  };

  const checkBodyMeter = (pathMeter: string, bodyMeter: unknown, where: string) => {
    if (bodyMeter !== undefined && bodyMeter !== pathMeter) {
      throw new HttpProblem(400, 'validation-failed', 'The request is invalid', `${where} is ${typeof bodyMeter === 'string' ? bodyMeter : JSON.stringify(bodyMeter)} but the path names meter ${pathMeter}; they must match (or omit it)`, {
        errors: [{ in: 'body', pointer: where.replace(/^body/, '').replace(/\./g, '/').replace(/\[(\d+)\]/g, '/$1'), message: `must equal ${pathMeter}` }],
      });
    }
  };

  /** The generic handler of an operation with `x-chaincode`: arguments from the request, the right identity, evaluate or submit. */
  const ledgerRoute = (m: ChaincodeMapping): Handler => async (ctx) => {
    const body = (ctx.body ?? {}) as Record<string, unknown>;
    let id: ActingIdentity;
    if (m.as === 'meter') {
      const meterId = (body.meterId ?? ctx.query.meterId) as string | undefined;
      const p = ctx.principal!;
      if (meterId === undefined) throw new HttpProblem(400, 'meter-id-required', 'Which meter?', `${ctx.op.operationId} acts as a meter: name it with meterId`);
      if (!p.roles.includes('meter') || !p.meters.includes(meterId)) checkMeter(p, meterId);
      id = d.meters.actingIdentity(meterId);
    } else if (m.as === 'operator') id = d.operator;
    else if (m.as === 'regulator') {
      id = regulatorIdentity();
    } else id = actingFor(ctx.principal!, (body.meterId ?? ctx.query.meterId) as string | undefined);
    const omit = new Set(['meterId', ...Object.values(m.transient ?? {}).map((e) => e.replace(/^body:/, ''))]);
    const json = (v: unknown) => (v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v));
    const arg = (expr: string): string => {
      const [kind, name = ''] = expr.split(/:(.*)/s) as [string, string?];
      if (kind === 'path') return ctx.params[name] ?? '';
      if (kind === 'query') return json(ctx.query[name]);
      if (kind === 'literal') return name;
      if (kind === 'body' && name) return json(body[name]);
      if (kind === 'body') return JSON.stringify(Object.fromEntries(Object.entries(body).filter(([k]) => !omit.has(k))));
      throw new Error(`bad x-chaincode argument ${expr} in ${ctx.op.operationId}`);
    };
    const args = m.args.map(arg);
    if (m.mode === 'evaluate') return { status: 200, body: await evaluateJson(id, m.fn, args) };
    const transient: Record<string, string> = m.transient ? Object.fromEntries(Object.entries(m.transient).map(([k, e]): [string, string] => [k, arg(e)]).filter(([, v]) => v !== '')) : {};
    for (const [name, p] of Object.entries(m.proofs ?? {})) {
      // The meter's reading proof stays off the block: fetched from its utility's peer, sent as transient data.
      let interval: string;
      if (typeof p.intervalStart === 'string') interval = arg(p.intervalStart);
      else {
        const obj = (await evaluateJson(id, p.intervalStart.fn, p.intervalStart.args.map(arg))) as Record<string, unknown> | null;
        interval = json(obj?.[p.intervalStart.field]);
      }
      const meterId = String(body.meterId ?? ctx.query.meterId);
      transient[name] = JSON.stringify(await evaluateJson(id, 'meters:getProof', [meterId, interval, p.direction]));
    }
    return submitSync(ctx, id, m.fn, args, Object.keys(transient).length ? transient : undefined);
  };

  const generic: Record<string, Handler> = {};
  for (const op of d.spec.operations) if (op.chaincode) generic[op.operationId] = ledgerRoute(op.chaincode);

  return {
    ...generic,
    getHealth: async () => ({ status: 200, body: { status: 'ok', uptimeSeconds: Math.round((Date.now() - d.startedAt) / 1000) } }),
    getReady: async () => {
      const r = await d.readiness();
      return { status: r.ready ? 200 : 503, body: { status: r.ready ? 'ready' : 'unavailable', checks: r.checks } };
    },
    getMetrics: async () => ({ status: 200, body: await d.metrics.registry.metrics(), contentType: d.metrics.registry.contentType }),
    getOpenApi: async () => ({ status: 200, body: d.spec.doc }),

    enrolMeter: async (ctx) => {
      const { meterId, zone } = ctx.body as { meterId: string; zone: string };
      await d.meters.enrol(meterId, zone);
      // The utility records the meter on the ledger (idempotent in the chaincode); requestJoin checks the
      // certificate's meterId/zone against it. The API key is issued only once both steps are done, so a
      // failed ledger step is retried by POSTing the same enrolment again.
      const ledger = await submitSync(ctx, d.operator, 'participants:enrolMeter', [meterId, zone]);
      d.meters.recordLedgerEnrolment(meterId, (ledger.body as { txId: string }).txId);
      await registerLedgerKey(ctx, meterId);
      const key = d.apiKeys.issueMeterKey(meterId);
      const body = { ...meterView(d.meters.get(meterId)!, d.meters.ledgerKeyStatus(meterId)), apiKey: key.apiKey, apiKeyId: key.keyId };
      return {
        status: 201,
        body,
        headers: { Location: `/api/v1/meters/${encodeURIComponent(meterId)}` },
        // never keep the plaintext key, not even for idempotent replays
        storedBody: { ...body, apiKey: '(shown only in the first response)' },
      };
    },
    getMeter: async (ctx) => {
      const m = d.meters.get(ctx.params.meterId!);
      if (!m) throw new HttpProblem(404, 'meter-not-found', 'Unknown meter', `meter ${ctx.params.meterId} is not enrolled at this gateway`);
      return { status: 200, body: meterView(m, d.meters.ledgerKeyStatus(m.meterId)) };
    },
    revokeMeter: async (ctx) => {
      const meterId = ctx.params.meterId!;
      const reason = ((ctx.body as { reason?: string } | undefined)?.reason ?? 'cessationofoperation');
      const { meter, crlPem } = await d.meters.revoke(meterId, reason);
      d.apiKeys.revokeKeysForMeter(meterId);
      d.ledger.forget(`meter:${meterId}`);
      // The ledger retires the meter's relay key too (defence in depth: the gateway already refuses to
      // sign for it). Best effort: the CA revocation above is what the answer reports.
      try {
        await d.submitter.submit(d.operator, 'meters:revokeKey', [meterId]);
      } catch (e) {
        ctx.req.log?.warn({ meterId, err: (e as Error).message }, 'meters:revokeKey failed; the gateway refuses the meter anyway');
      }
      return { status: 200, body: { ...meterView(meter), crlPem } };
    },

    postReading: async (ctx) => {
      const meterId = ctx.params.meterId!;
      const sync = ctx.query.sync === true;
      if (ctx.resume?.receiptId) {
        // the first request with this Idempotency-Key queued it and was cut while waiting: answer from it
        const earlier = d.queue.get(ctx.resume.receiptId);
        if (!earlier) throw new HttpProblem(404, 'receipt-not-found', 'Unknown receipt', `the receipt ${ctx.resume.receiptId} of the first request with this Idempotency-Key no longer exists (past its retention); use a new Idempotency-Key`);
        return sync ? awaitReceipt(earlier) : receiptReply(earlier);
      }
      const body = ctx.body as Record<string, unknown>;
      checkBodyMeter(meterId, body.meterId, 'body.meterId');
      d.meters.actingIdentity(meterId); // refuse now if revoked / not enrolled
      // With ?sync=true the Idempotency-Key stores the answer this request ends up giving (200 committed, or
      // 202 with the receipt's state after syncWaitMs), not the 202 'QUEUED' it would give without waiting.
      const { receipt, reply } = await enqueue(ctx, meterId, 'meters:postReading', { reading: JSON.stringify({ ...body, meterId }) }, 1, sync);
      return sync ? awaitReceipt(receipt) : reply;
    },
    postReadingBatch: async (ctx) => {
      const meterId = ctx.params.meterId!;
      const readings = (ctx.body as { readings: Array<Record<string, unknown>> }).readings;
      readings.forEach((r, i) => checkBodyMeter(meterId, r.meterId, `body.readings[${i}].meterId`));
      d.meters.actingIdentity(meterId);
      const batch = { meterId, readings: readings.map((r) => ({ ...r, meterId })) };
      return (await enqueue(ctx, meterId, 'meters:postReadings', { readings: JSON.stringify(batch) }, readings.length)).reply;
    },
    getReceipt: async (ctx) => {
      const r = d.queue.get(ctx.params.receiptId!);
      const p = ctx.principal!;
      if (!r || (r.principal !== p.keyId && !p.roles.includes('operator'))) {
        // the same answer for "not yours" and "does not exist": receipt ids are not an oracle
        throw new HttpProblem(404, 'receipt-not-found', 'Unknown receipt', `no receipt ${ctx.params.receiptId} was issued to API key ${p.keyId}`);
      }
      return { status: 200, body: receiptView(r) };
    },

    joinParticipant: async (ctx) => {
      const body = ctx.body as { meterId: string; request?: unknown };
      const id = d.meters.actingIdentity(body.meterId);
      return submitSync(ctx, id, 'participants:requestJoin', [JSON.stringify(body.request ?? {})]);
    },
    getMe: async (ctx) => {
      const id = actingFor(ctx.principal!, ctx.query.meterId as string | undefined);
      return { status: 200, body: await evaluateJson(id, 'participants:whoAmI', []) };
    },
    getParticipant: async (ctx) => {
      const id = actingFor(ctx.principal!, ctx.query.meterId as string | undefined);
      return { status: 200, body: await evaluateJson(id, 'participants:get', [ctx.params.participantId!]) };
    },
    getWallet: async (ctx) => {
      const id = actingFor(ctx.principal!, ctx.query.meterId as string | undefined);
      return { status: 200, body: await evaluateJson(id, 'wallets:get', [ctx.params.participantId!]) };
    },
    creditWallet: async (ctx) => {
      const { amount, reference } = ctx.body as { amount: number; reference: string };
      return submitSync(ctx, d.operator, 'wallets:credit', [ctx.params.participantId!, String(amount), reference]);
    },
  };
}
