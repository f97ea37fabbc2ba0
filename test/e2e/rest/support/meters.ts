/**
 * REST suite support — meter enrolment through the operator route, the agent behaviours a test sets, reading generators.
 * Tier-agnostic: only $GRIDLEDGER_HOME/gateways.json and network.json are read.
 */
import type { Reading as ProtocolReading } from '@gridledger/protocol';
import { GatewayDescriptor } from './gateways';
import { RestClient, expectStatus } from './http';

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
