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
    if (!m || m.status !== 'active') {
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
    listAgentDuties: async () => ({
      status: 200,
      body: { enabled: d.agents !== undefined, checkpoint: d.store.checkpoint(AGENTS_CHECKPOINT) ?? null, pending: d.store.pending().map(dutyView) },
    }),
  };
}
