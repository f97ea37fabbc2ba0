/**
 * REST suite support: gateways.json (written by start.sh on every tier), a small typed HTTP client over
 * the global fetch, meter enrolment through the operator route, reading generators and receipt polling.
 * Tier-agnostic: only $GRIDLEDGER_HOME/gateways.json and network.json are read.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { EventEnvelope, Reading as ProtocolReading } from '@gridledger/protocol';
import { loadNetwork, networkHome, org, repoRoot } from '../support/network';
import { connectOrg } from '../support/gateway';
import { isAlive, sleep } from '../support/control';
import { newRunId } from '../support/fabric';

export interface GatewayDescriptor {
  org: string;
  mspId: string;
  url: string;
  /** `regulator` only at the gateway of the org that holds the regulator identity */
  apiKeys: { operator: string; regulator?: string };
}

/** A client with the regulator key, at the one gateway that has the regulator identity. */
export function regulatorClient(gateways: GatewayDescriptor[]): RestClient {
  const g = gateways.find((x) => x.apiKeys.regulator);
  if (!g) throw new Error('no gateway in gateways.json has a regulator key (no org in network.json lists a regulator* user)');
  return new RestClient(g.url, g.apiKeys.regulator);
}

export function loadGateways(home: string = networkHome()): GatewayDescriptor[] {
  const path = join(home, 'gateways.json');
  if (!existsSync(path)) throw new Error(`no ${path}: start the network with network/scripts/start.sh (it writes gateways.json)`);
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as { gateways?: GatewayDescriptor[] };
  if (!Array.isArray(parsed.gateways) || parsed.gateways.length === 0) throw new Error(`${path} lists no gateways`);
  return parsed.gateways;
}

/** One id per test file run: every meter id, idempotency key and reference carries it (re-runs on a persistent network). */
export const RUN = newRunId();

export interface HttpResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface RequestOptions {
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
  idempotencyKey?: string;
  /** overrides the client's key; `null` sends no key at all */
  apiKey?: string | null;
}

export class RestClient {
  constructor(
    readonly baseUrl: string,
    readonly apiKey?: string,
  ) {}

  withKey(apiKey: string | undefined): RestClient {
    return new RestClient(this.baseUrl, apiKey);
  }

  async request<T = any>(method: string, path: string, opts: RequestOptions = {}): Promise<HttpResponse<T>> {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    const key = opts.apiKey === undefined ? this.apiKey : opts.apiKey;
    if (key) headers.authorization = `Bearer ${key}`;
    if (opts.idempotencyKey) headers['idempotency-key'] = opts.idempotencyKey;
    let body: string | undefined;
    if (opts.rawBody !== undefined) body = opts.rawBody;
    else if (opts.body !== undefined) body = JSON.stringify(opts.body);
    if (body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(this.baseUrl + path, { method, headers, body });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new Error(`${method} ${this.baseUrl}${path}: ${(err as Error).message}${cause ? ` (${cause.code ?? ''} ${cause.message ?? ''})` : ''}`);
    }
    const text = await res.text();
    let parsed: unknown = text;
    const ct = res.headers.get('content-type') ?? '';
    if (ct.includes('json') && text !== '') parsed = JSON.parse(text);
    return { status: res.status, headers: res.headers, body: parsed as T, text };
  }

  get<T = any>(path: string, opts?: RequestOptions): Promise<HttpResponse<T>> {
    return this.request<T>('GET', path, opts);
  }

  post<T = any>(path: string, body: unknown, opts: Omit<RequestOptions, 'body'> = {}): Promise<HttpResponse<T>> {
    return this.request<T>('POST', path, { ...opts, body });
  }
}

/** Expects a status and, for errors, a problem body; the message shows the whole response on mismatch. */
export function expectStatus(res: HttpResponse, status: number, problemType?: string): void {
  const info = `${res.status} ${res.text.slice(0, 1500)}`;
  if (res.status !== status) throw new Error(`expected HTTP ${status}, got ${info}`);
  if (problemType !== undefined) {
    const ct = res.headers.get('content-type') ?? '';
    if (!ct.startsWith('application/problem+json')) throw new Error(`expected application/problem+json, got ${ct}: ${info}`);
    const type = (res.body as { type?: string }).type;
    if (type !== `urn:gridledger:problem:${problemType}`) throw new Error(`expected problem ${problemType}, got ${info}`);
    if (typeof (res.body as { detail?: unknown }).detail !== 'string' || (res.body as { detail: string }).detail === '') {
      throw new Error(`problem without a detail: ${info}`);
    }
  }
}

export interface EnrolledMeter {
  meterId: string;
  zone: string;
  mspId: string;
  apiKey: string;
  certificatePem: string;
  ledgerTxId: string;
  gateway: GatewayDescriptor;
  client: RestClient;
}

/**
 * The behaviour of a meter's agent in its gateway (docs/agents.md). The suites that play every protocol
 * call by hand (07, 08, 10, ...) keep their meters' agents `silent`, so an agent never enters, votes or
 * decides before the test does; 11-agents switches them on.
 */
export type AgentBehaviour = 'honest' | 'silent' | 'approve-all' | 'refuse-all' | 'withhold-delivery' | 'under-deliver' | 'lying-buyer';

export async function setAgentBehaviour(gw: GatewayDescriptor, meterId: string, behaviour: AgentBehaviour): Promise<any> {
  const res = await new RestClient(gw.url, gw.apiKeys.operator).request('PUT', `/api/v1/meters/${meterId}/agent`, { body: { behaviour } });
  expectStatus(res, 200);
  return res.body;
}

/** Enrols a meter through `POST /api/v1/meters` with the gateway's operator key and returns its one-time API key. */
export async function enrolMeter(gw: GatewayDescriptor, meterId: string, zone: string, agent: AgentBehaviour = 'silent'): Promise<EnrolledMeter> {
  const operator = new RestClient(gw.url, gw.apiKeys.operator);
  const res = await operator.post('/api/v1/meters', { meterId, zone }, { idempotencyKey: `enrol-${meterId}` });
  expectStatus(res, 201);
  await setAgentBehaviour(gw, meterId, agent);
  const b = res.body as { apiKey: string; certificatePem: string; ledgerTxId: string; mspId: string; meterId: string };
  if (b.meterId !== meterId || typeof b.apiKey !== 'string') throw new Error(`unexpected enrolment body ${res.text}`);
  return {
    meterId,
    zone,
    mspId: b.mspId,
    apiKey: b.apiKey,
    certificatePem: b.certificatePem,
    ledgerTxId: b.ledgerTxId,
    gateway: gw,
    client: new RestClient(gw.url, b.apiKey),
  };
}

/** A reading as a REST body carries it: the protocol's `Reading` without `meterId` (the path names the meter). */
export type Reading = Omit<ProtocolReading, 'meterId'>;

/**
 * Consecutive, ended 15-minute readings for a fresh meter, oldest first, with registers that grow by
 * each interval's flow. `count` intervals ending at least one hour ago.
 */
export function readingSeries(count: number, opts: { importWh?: number; exportWh?: number; endBeforeNowSeconds?: number } = {}): Reading[] {
  const len = 900;
  const now = Math.floor(Date.now() / 1000);
  const lastStart = Math.floor((now - (opts.endBeforeNowSeconds ?? 3600)) / len) * len - len;
  const first = lastStart - (count - 1) * len;
  const out: Reading[] = [];
  let imp = 10_000;
  let exp = 20_000;
  for (let i = 0; i < count; i++) {
    const importWh = opts.importWh ?? 100 + i;
    const exportWh = opts.exportWh ?? 400 + i;
    imp += importWh;
    exp += exportWh;
    out.push({ intervalStart: first + i * len, intervalLength: len, importWh, exportWh, importRegisterWh: imp, exportRegisterWh: exp });
  }
  return out;
}

export interface Receipt {
  receiptId: string;
  meterId: string;
  function?: string;
  itemCount: number;
  state: 'queued' | 'submitted' | 'committed' | 'rejected';
  txId: string | null;
  blockNumber: number | null;
  attempts: number;
  result: any;
  reason: string | null;
  problem: any;
  lastError: string | null;
}

/** Polls `GET /api/v1/receipts/{id}` until the receipt is committed or rejected (bounded). */
export async function waitReceipt(client: RestClient, receiptId: string, timeoutMs = 90_000): Promise<Receipt> {
  const until = Date.now() + timeoutMs;
  let last: HttpResponse<Receipt> | undefined;
  for (;;) {
    last = await client.get<Receipt>(`/api/v1/receipts/${receiptId}`);
    if (last.status === 200 && (last.body.state === 'committed' || last.body.state === 'rejected')) return last.body;
    if (last.status !== 200 && last.status !== 503) throw new Error(`GET receipt ${receiptId}: ${last.status} ${last.text}`);
    if (Date.now() > until) throw new Error(`receipt ${receiptId} not final after ${timeoutMs} ms: ${last.status} ${last.text}`);
    await sleep(250);
  }
}

/** Polls until `check` returns a value (not undefined) or the deadline passes; the error shows the last attempt. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > until) throw new Error(`${what}: not reached in ${timeoutMs} ms${lastError ? `: ${String(lastError)}` : ''}`);
    await sleep(250);
  }
}

/** pid of a utility's gateway from `$GRIDLEDGER_HOME/pids/gateway-<org>.pid`. */
export function gatewayPid(org: string, home: string = networkHome()): number {
  const file = join(home, 'pids', `gateway-${org}.pid`);
  if (!existsSync(file)) throw new Error(`gateway pid file ${file} does not exist`);
  const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
  if (!Number.isInteger(pid) || pid <= 1) throw new Error(`gateway pid file ${file} holds no pid`);
  return pid;
}

/** SIGKILLs a utility's gateway (a crash: nothing drains) and waits until the process is gone. */
export async function killGateway(org: string, timeoutMs = 15_000): Promise<number> {
  const pid = gatewayPid(org);
  process.kill(pid, 'SIGKILL');
  const until = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > until) throw new Error(`gateway ${org} (pid ${pid}) still alive after SIGKILL`);
    await sleep(100);
  }
  return pid;
}

/**
 * Brings the gateways back exactly as start.sh does: runs start.sh's own `start_gateways` (lib.sh) with
 * the same environment — it starts only the gateways whose pid is not alive, waits for /ready and rewrites
 * gateways.json. (start.sh itself returns early while the ledger is up, so the function is called directly.)
 * The port base is taken from the environment, else derived from the gateways' recorded URLs.
 */
export async function restartGateways(timeoutMs = 180_000): Promise<string> {
  const home = networkHome();
  const env: NodeJS.ProcessEnv = { ...process.env, GRIDLEDGER_HOME: home };
  if (!env.GRIDLEDGER_PORT_BASE) env.GRIDLEDGER_PORT_BASE = String(await derivePortBase(home));
  // lib.sh's pid_alive is `kill -0`, which succeeds on a zombie: a SIGKILLed gateway whose parent has not
  // reaped it yet would count as running and never be restarted. A dead or zombie pid's file is stale; drop it.
  for (const g of loadGateways(home)) {
    const file = join(home, 'pids', `gateway-${g.org}.pid`);
    if (!existsSync(file)) continue;
    const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
    if (!Number.isInteger(pid) || pid <= 1 || !isAlive(pid)) rmSync(file, { force: true });
  }
  const script = `source "${join(repoRoot, 'network', 'scripts', 'lib.sh')}" && start_gateways`;
  return run(['bash', '-c', script], env, timeoutMs);
}

async function derivePortBase(home: string): Promise<number> {
  const gws = loadGateways(home);
  const firstPort = Math.min(...gws.map((g) => Number(new URL(g.url).port)));
  const netinfo = join(repoRoot, 'network', 'scripts', 'netinfo.js');
  const config = process.env.GRIDLEDGER_NETWORK_CONFIG ?? join(repoRoot, 'test-network-config', 'network.yaml');
  const defaultBase = Number((await run(['node', netinfo, config, '', 'portBase'], process.env, 30_000)).trim());
  const defaultGatewayPort = Number((await run(['node', netinfo, config, '', 'gateway.port'], process.env, 30_000)).trim());
  return firstPort - (defaultGatewayPort - defaultBase);
}

function run(argv: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const [cmd, ...args] = argv;
    const child = spawn(cmd!, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error(`timed out after ${timeoutMs} ms: ${argv.join(' ')}\n${out}${err}`));
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${argv.join(' ')} failed (${code ?? signal})\n${out}${err}`));
    });
  });
}

/** Evaluates a chaincode function directly on an org's peer as that org's operator (reads the ledger behind the gateway). */
export async function ledgerEvaluate(orgName: string, fn: string, args: string[]): Promise<any> {
  const net = loadNetwork();
  const conn = connectOrg(org(net, orgName));
  try {
    const contract = conn.gateway.getNetwork(net.channel).getContract('gridledger');
    const bytes = await contract.evaluateTransaction(fn, ...args);
    return JSON.parse(Buffer.from(bytes).toString('utf8'));
  } finally {
    conn.close();
  }
}

// The @hyperledger/fabric-protos copy fabric-gateway loads (its block messages are instances of it).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const protos: typeof import('@hyperledger/fabric-protos') = require(
  require.resolve('@hyperledger/fabric-protos', { paths: [dirname(require.resolve('@hyperledger/fabric-gateway'))] }),
);

/** One transaction as committed in a block: id, validity (TRANSACTIONS_FILTER code 0) and its creator. */
export interface LedgerTx {
  txId: string;
  blockNumber: number;
  valid: boolean;
  validationCode: number;
  creatorMspId: string;
  creatorCertPem: string;
  /** `<chaincode>/<function>` of the invocation (e.g. `gridledger/trades:vote`); '' when it cannot be read */
  fn: string;
  /** the channel header's timestamp, Unix seconds (the client's proposal time) */
  timestamp: number;
}

/** `<chaincode>/<function>` of an endorser transaction: first action's ChaincodeInvocationSpec, args[0]. */
function invokedFunction(payload: import('@hyperledger/fabric-protos').common.Payload): string {
  try {
    const tx = protos.peer.Transaction.deserializeBinary(payload.getData_asU8());
    const action = tx.getActionsList()[0];
    if (!action) return '';
    const cap = protos.peer.ChaincodeActionPayload.deserializeBinary(action.getPayload_asU8());
    const cpp = protos.peer.ChaincodeProposalPayload.deserializeBinary(cap.getChaincodeProposalPayload_asU8());
    const spec = protos.peer.ChaincodeInvocationSpec.deserializeBinary(cpp.getInput_asU8()).getChaincodeSpec();
    const args = spec?.getInput()?.getArgsList_asU8() ?? [];
    return `${spec?.getChaincodeId()?.getName() ?? ''}/${args[0] ? Buffer.from(args[0]).toString('utf8') : ''}`;
  } catch {
    return '';
  }
}

/**
 * Reads blocks `fromBlock..toBlock` (inclusive) from an org's peer as its operator (Deliver through the
 * peer gateway) and returns every endorser transaction in them. The ledger's own record, independent
 * of the REST gateway's receipts.
 */
export async function scanTransactions(orgName: string, fromBlock: number, toBlock: number, timeoutMs = 60_000): Promise<LedgerTx[]> {
  const net = loadNetwork();
  const conn = connectOrg(org(net, orgName));
  const out: LedgerTx[] = [];
  const blocks = await conn.gateway.getNetwork(net.channel).getBlockEvents({ startBlock: BigInt(fromBlock) });
  const timer = setTimeout(() => blocks.close(), timeoutMs);
  let last = fromBlock - 1;
  try {
    for await (const block of blocks) {
      const number = Number(block.getHeader()!.getNumber());
      const filter = block.getMetadata()!.getMetadataList_asU8()[protos.common.BlockMetadataIndex.TRANSACTIONS_FILTER] ?? new Uint8Array();
      block.getData()!.getDataList_asU8().forEach((envBytes, i) => {
        const env = protos.common.Envelope.deserializeBinary(envBytes);
        const payload = protos.common.Payload.deserializeBinary(env.getPayload_asU8());
        const header = payload.getHeader()!;
        const ch = protos.common.ChannelHeader.deserializeBinary(header.getChannelHeader_asU8());
        if (ch.getType() !== protos.common.HeaderType.ENDORSER_TRANSACTION) return;
        const sig = protos.common.SignatureHeader.deserializeBinary(header.getSignatureHeader_asU8());
        const creator = protos.msp.SerializedIdentity.deserializeBinary(sig.getCreator_asU8());
        const code = filter[i] ?? 255;
        out.push({
          txId: ch.getTxId(),
          blockNumber: number,
          valid: code === 0,
          validationCode: code,
          creatorMspId: creator.getMspid(),
          creatorCertPem: Buffer.from(creator.getIdBytes_asU8()).toString('utf8'),
          fn: invokedFunction(payload),
          timestamp: ch.getTimestamp()?.getSeconds() ?? 0,
        });
      });
      last = number;
      if (number >= toBlock) break;
    }
  } finally {
    clearTimeout(timer);
    blocks.close();
    conn.close();
  }
  if (last < toBlock) throw new Error(`read blocks ${fromBlock}..${last} of ${orgName}'s peer, expected up to ${toBlock} within ${timeoutMs} ms`);
  return out;
}

const normPem = (pem: string) => pem.replace(/\r/g, '').trim();

/** The valid transactions in blocks `from..to` signed with this certificate. */
export async function validTxsSignedBy(orgName: string, certPem: string, fromBlock: number, toBlock: number): Promise<LedgerTx[]> {
  const txs = await scanTransactions(orgName, fromBlock, toBlock);
  return txs.filter((t) => t.valid && normPem(t.creatorCertPem) === normPem(certPem));
}

/**
 * A block number at or above every commit so far: a marker meter posts its next reading synchronously
 * and the commit's block is returned. Scanning up to it covers everything committed before the call.
 */
export class BlockCeiling {
  private next = 0;
  private readonly series = readingSeries(96, { endBeforeNowSeconds: 7200 });
  private constructor(private readonly meter: EnrolledMeter) {}

  static async create(gw: GatewayDescriptor, name: string): Promise<BlockCeiling> {
    return new BlockCeiling(await enrolMeter(gw, name, 'marker'));
  }

  async block(): Promise<number> {
    const r = this.series[this.next++];
    const res = await this.meter.client.post(`/api/v1/meters/${this.meter.meterId}/readings?sync=true`, r);
    expectStatus(res, 200);
    return res.body.blockNumber as number;
  }
}

/** The transaction is in block `blockNumber`, valid, and signed with exactly this certificate. */
export async function expectCommittedBy(orgName: string, certPem: string, txId: string, blockNumber: number): Promise<void> {
  const txs = await scanTransactions(orgName, blockNumber, blockNumber);
  const tx = txs.find((t) => t.txId === txId);
  if (!tx) throw new Error(`tx ${txId} is not in block ${blockNumber} (block holds ${txs.map((t) => t.txId).join(', ')})`);
  if (!tx.valid) throw new Error(`tx ${txId} in block ${blockNumber} has validation code ${tx.validationCode}`);
  if (normPem(tx.creatorCertPem) !== normPem(certPem)) throw new Error(`tx ${txId} was signed by another certificate`);
}

/** A community member this suite created, with the meter key that acts for it (kept in the home for re-runs). */
export interface Member {
  meterId: string;
  apiKey: string;
  participantId: string;
  org: string;
}

const membersFile = (home: string) => join(home, 'rest-e2e-members.json');

export function loadMembers(home: string = networkHome()): Member[] {
  const f = membersFile(home);
  return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as Member[]) : [];
}

export function saveMember(m: Member, home: string = networkHome()): void {
  const all = loadMembers(home).filter((x) => x.participantId !== m.participantId);
  all.push(m);
  writeFileSync(membersFile(home), JSON.stringify(all, null, 2) + '\n', { mode: 0o600 });
}

export function memberClient(m: Member): RestClient {
  const gw = loadGateways().find((g) => g.org === m.org);
  if (!gw) throw new Error(`no gateway for ${m.org}`);
  return new RestClient(gw.url, m.apiKey);
}

/** Enrols a meter and asks to join (stake in fixed point); returns the pending participant. */
export async function enrolAndJoin(gw: GatewayDescriptor, meterId: string, zone: string, stake: number, agent: AgentBehaviour = 'silent'): Promise<{ meter: EnrolledMeter; participant: any; blockNumber: number }> {
  const meter = await enrolMeter(gw, meterId, zone, agent);
  const res = await meter.client.post('/api/v1/participants/join', { meterId, request: { stake } }, { idempotencyKey: `join-${meterId}` });
  expectStatus(res, 201);
  return { meter, participant: res.body.result, blockNumber: res.body.blockNumber };
}

/**
 * Governance parameters the community flows run with, set by the regulator through the REST API (same on
 * both tiers): Eq. (1) leader slots of 30 s instead of 300 s, so a flow waiting for its task's leader —
 * or, after Condition 2 (one entry per leader per slot), for the next slot's leader — waits seconds, not
 * minutes. The clock guard's tolerance must stay at most half a slot (governance:setParameters checks it);
 * 15 s is far above the skew between a gateway and a peer on one machine.
 */
export const TEST_GOVERNANCE = { slotSeconds: 30, clockToleranceSeconds: 15 } as const;

/**
 * The slot leader of a committee task records its entry (`entryPath`, e.g. `/api/v1/admissions/<pid>/entry`).
 * The leader is asked again whenever the slot turns between asking and entering (403 "not the leader"), or
 * when it already entered another task in this slot (409 Condition 2: wait for the next slot's leader).
 * Returns the leader and the entry's response body.
 */
export async function enterAsLeader(taskId: string, entryPath: string, byPid: Map<string, Member>, regulator: RestClient, timeoutMs: number): Promise<{ leader: Member; body: any }> {
  return eventually(`leader entry for task ${taskId}`, async () => {
    const l = await regulator.get(`/api/v1/committees/tasks/${taskId}/leader`);
    expectStatus(l, 200);
    const leader = byPid.get(l.body.leader);
    if (!leader) throw new Error(`leader ${l.body.leader} of task ${taskId} is not a member this suite holds a key for`);
    const entry = await memberClient(leader).post(entryPath, { meterId: leader.meterId });
    if ((entry.status === 403 && /leader/.test(entry.text)) || (entry.status === 409 && /Condition 2/.test(entry.text))) {
      await sleep(1000);
      return undefined;
    }
    expectStatus(entry, 201);
    return { leader, body: entry.body };
  }, timeoutMs);
}

/**
 * A committee member votes right after the leader's entry committed. On Fabric each org's peer commits on
 * its own, so the member's endorsers may not have the entry yet (412 "no leader entry yet"): like a real
 * client it tries again for a little while. Any other answer is returned as is.
 */
export async function voteAfterEntry(m: Member, votePath: string, body: Record<string, unknown>): Promise<HttpResponse> {
  let last: HttpResponse | undefined;
  await eventually(`vote of ${m.meterId} on ${votePath}`, async () => {
    last = await memberClient(m).post(votePath, { meterId: m.meterId, ...body });
    if (last.status === 412 && /no leader entry yet/.test(last.text)) {
      await sleep(500);
      return undefined;
    }
    return true;
  }, 30_000);
  return last!;
}

/**
 * The community the committees are drawn from: at least n = 3f+1 active, committee-eligible members whose
 * meter keys this suite holds. On a fresh network the regulator admits founding members (one per
 * utility in turn, distinct zones); members are remembered in the home so a re-run acts for them again.
 */
export async function ensureCommunity(agent: AgentBehaviour = 'silent'): Promise<{ members: Member[]; params: any }> {
  const gws = loadGateways();
  const regulator = regulatorClient(gws);
  let p = await regulator.get('/api/v1/governance/parameters');
  expectStatus(p, 200);
  if (p.body.slotSeconds !== TEST_GOVERNANCE.slotSeconds || p.body.clockToleranceSeconds !== TEST_GOVERNANCE.clockToleranceSeconds) {
    expectStatus(await regulator.post('/api/v1/governance/parameters', TEST_GOVERNANCE), 201);
    p = await regulator.get('/api/v1/governance/parameters');
    expectStatus(p, 200);
  }
  const params = p.body;
  const n = 3 * params.f + 1;
  const members: Member[] = [];
  for (const m of loadMembers()) {
    const got = await memberClient(m).get(`/api/v1/participants/${m.participantId}?meterId=${m.meterId}`);
    if (got.status === 200 && got.body.status === 'ACTIVE') {
      await setAgentBehaviour(gws.find((g) => g.org === m.org)!, m.meterId, agent);
      members.push(m);
    }
  }
  let i = members.length;
  while (members.length < n) {
    const gw = gws[i % gws.length]!;
    const meterId = `founder-${RUN}-${i}`;
    const { meter, participant } = await enrolAndJoin(gw, meterId, `zone-${i % 3}`, params.minStake, agent);
    // The join opened an admission task that the utilities' beacon contributors seed right away. Admitting
    // while those contributions commit races them (endorsers at different heights: "ProposalResponsePayloads
    // do not match" — the gateway retries it, but a founding admission is clearer on a seeded task), so wait.
    await eventually(`admission task ${participant.admissionTaskId} seeded`, async () => {
      const t = await regulator.get(`/api/v1/committees/tasks/${participant.admissionTaskId}`);
      expectStatus(t, 200);
      return t.body.status !== 'AWAITING_ENTROPY' ? true : undefined;
    }, 120_000);
    const admitted = await regulator.post(`/api/v1/participants/${participant.participantId}/founding-admission`, {}, { idempotencyKey: `found-${meterId}` });
    expectStatus(admitted, 201);
    if (admitted.body.result.status !== 'ACTIVE') throw new Error(`founding admission left ${participant.participantId} ${admitted.body.result.status}`);
    const m = { meterId, apiKey: meter.apiKey, participantId: participant.participantId, org: gw.org };
    saveMember(m);
    members.push(m);
    i++;
  }
  return { members, params };
}

/** One Server-Sent Event of `GET /api/v1/events`. */
export interface SseEvent {
  id: string;
  event: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the suites read event-specific payload fields
  data: EventEnvelope<any>;
}

/**
 * Reads `GET /api/v1/events` (SSE) until `done(collected)` or the deadline, then aborts the stream.
 * `headers` may carry `Last-Event-ID`. Keeps only events passing `keep`.
 */
export async function collectSse(
  client: RestClient,
  query: string,
  keep: (e: SseEvent) => boolean,
  done: (collected: SseEvent[]) => boolean,
  opts: { headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<{ status: number; events: SseEvent[]; contentType: string }> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), opts.timeoutMs ?? 60_000);
  const events: SseEvent[] = [];
  try {
    const res = await fetch(`${client.baseUrl}/api/v1/events${query}`, {
      headers: { authorization: `Bearer ${client.apiKey}`, accept: 'text/event-stream', ...(opts.headers ?? {}) },
      signal: ac.signal,
    });
    const contentType = res.headers.get('content-type') ?? '';
    if (res.status !== 200 || !res.body) return { status: res.status, events, contentType };
    const decoder = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buf += decoder.decode(chunk, { stream: true });
        let sep: number;
        while ((sep = buf.search(/\r?\n\r?\n/)) >= 0) {
          const block = buf.slice(0, sep);
          buf = buf.slice(sep).replace(/^\r?\n\r?\n/, '');
          const fields: Record<string, string> = {};
          for (const line of block.split(/\r?\n/)) {
            if (line === '' || line.startsWith(':')) continue;
            const i = line.indexOf(':');
            const k = i < 0 ? line : line.slice(0, i);
            const v = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
            fields[k] = fields[k] === undefined ? v : `${fields[k]}\n${v}`;
          }
          if (fields.data === undefined) continue;
          const e: SseEvent = { id: fields.id ?? '', event: fields.event ?? 'message', data: JSON.parse(fields.data) };
          if (keep(e)) events.push(e);
          if (done(events)) {
            ac.abort();
            return { status: 200, events, contentType };
          }
        }
      }
    } catch (err) {
      if (!ac.signal.aborted) throw err;
    }
    return { status: 200, events, contentType };
  } finally {
    clearTimeout(timer);
  }
}
