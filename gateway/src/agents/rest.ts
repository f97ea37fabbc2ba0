import type { Handler, HandlerContext } from '../rest/app';
import { HttpProblem } from '../rest/problem';
import { unixSeconds } from '../rest/handlers';
import type { MeterIdentities } from '../identity/meters';
import type { AgentService } from './service';
import { AGENTS_CHECKPOINT, type AgentStore, type Duty } from './store';
import { DEFAULT_SETTINGS, type Behaviour } from './behaviour';

const dutyView = (d: Duty) => ({
  id: d.id,
  kind: d.kind,
  meterId: d.meterId || null,
  subject: d.subject,
  round: d.round,
  state: d.state,
  dueAt: unixSeconds(d.dueAt),
  attempts: d.attempts,
  note: d.note,
  lastError: d.lastError,
});

/**
 * REST views of the agents (gateway/src/rest/openapi.yaml, tag `agents`): a meter's agent (operator or
 * the meter's own key — the route's x-roles), its settings (operator), and every pending duty (operator).
 * Only meters this gateway holds exist here; another utility's meter is 404.
 */
export function agentHandlers(d: { agents: AgentService | undefined; store: AgentStore; meters: Pick<MeterIdentities, 'get'> }): Record<string, Handler> {
  const held = (meterId: string) => {
    const m = d.meters.get(meterId);
    if (!m || m.status !== 'ACTIVE') {
      throw new HttpProblem(404, 'meter-not-enrolled', 'Meter not enrolled', `meter ${meterId} has no enrolled identity at this gateway, so no agent acts for it here`, { meterId });
    }
  };
  const view = (meterId: string) => {
    const s = d.agents ? d.agents.settings(meterId) : d.store.settings(meterId, DEFAULT_SETTINGS);
    return {
      meterId,
      participantId: d.store.participantOf(meterId) ?? null,
      enabled: d.agents !== undefined,
      behaviour: s.behaviour,
      autopilot: s.autopilot,
      pending: d.store.pending([meterId]).map(dutyView),
    };
  };
  return {
    getMeterAgent: async (ctx: HandlerContext) => {
      const meterId = ctx.params.meterId!;
      held(meterId);
      return { status: 200, body: view(meterId) };
    },
    setMeterAgent: async (ctx: HandlerContext) => {
      const meterId = ctx.params.meterId!;
      held(meterId);
      const body = ctx.body as { behaviour?: Behaviour; autopilot?: boolean };
      if (d.agents) d.agents.setSettings(meterId, body);
      else d.store.setSettings(meterId, body);
      return { status: 200, body: view(meterId) };
    },
    putAuctionSecrets: async (ctx: HandlerContext) => {
      const meterId = ctx.params.meterId!;
      held(meterId);
      const b = ctx.body as { meterId: string; requestId: string; role: 'buyer' | 'seller'; secret: string; offerId?: string; pricePerKwh?: number; salt?: string };
      if (b.meterId !== meterId) throw new HttpProblem(400, 'meter-mismatch', 'Meter mismatch', `the body names meter ${b.meterId}, the path ${meterId}`, { meterId });
      const bid = [b.offerId, b.pricePerKwh, b.salt].filter((v) => v !== undefined).length;
      if (b.role === 'seller' ? bid !== 3 : bid !== 0) {
        throw new HttpProblem(400, 'invalid-auction-secrets', 'Invalid auction secrets', b.role === 'seller' ? 'a seller hands over its bid: offerId, pricePerKwh and salt' : 'a buyer hands over its identity secret only (no offerId, pricePerKwh or salt)');
      }
      if (!d.agents) throw new HttpProblem(409, 'agents-disabled', 'Agents disabled', 'this gateway runs no agents (agents.enabled), so nothing would reveal or claim with these secrets');
      const secret = { meterId, requestId: b.requestId, role: b.role, secret: b.secret, ...(b.role === 'seller' ? { offerId: b.offerId!, pricePerKwh: b.pricePerKwh!, salt: b.salt! } : {}) };
      const out = d.agents.storeAuctionSecret(secret);
      if (out === 'different') {
        throw new HttpProblem(409, 'auction-secrets-differ', 'Different auction secrets already kept', `meter ${meterId} already handed over other secrets as ${b.role} of auction ${b.requestId}; a commitment opens with one secret`, { meterId });
      }
      return { status: 201, body: { meterId, requestId: b.requestId, role: b.role, ...(b.offerId ? { offerId: b.offerId } : {}), stored: out === 'stored' } };
    },
    listAgentDuties: async () => ({
      status: 200,
      body: { enabled: d.agents !== undefined, checkpoint: d.store.checkpoint(AGENTS_CHECKPOINT) ?? null, pending: d.store.pending().map(dutyView) },
    }),
  };
}
