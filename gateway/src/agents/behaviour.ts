/**
 * Per-meter behaviours (issue 17), so the papers' attack scenarios run end to end without scripting each
 * call. `honest` is the default; the others are deliberate faults for tests and demos:
 * - `silent`: the meter's agent does nothing at all (no entry, vote or decision) — a crashed node;
 * - `approve-all` / `refuse-all`: it votes (and, approving, enters) without regard to the facts — a
 *   Byzantine validator; refuse-all never enters, because a leader's entry counts as its approval;
 * - `withhold-delivery`, `under-deliver`, `lying-buyer`: faults of the household autopilot (a seller that
 *   does not deliver / delivers less, a buyer that declares less than its meter shows). As a committee
 *   member such a meter behaves honestly.
 */
export const BEHAVIOURS = ['honest', 'silent', 'approve-all', 'refuse-all', 'withhold-delivery', 'under-deliver', 'lying-buyer'] as const;
export type Behaviour = (typeof BEHAVIOURS)[number];

export function isBehaviour(v: unknown): v is Behaviour {
  return typeof v === 'string' && (BEHAVIOURS as readonly string[]).includes(v);
}

/** A meter's agent settings: its behaviour and whether the household autopilot acts for it. */
export interface AgentSettings {
  behaviour: Behaviour;
  autopilot: boolean;
}

export const DEFAULT_SETTINGS: AgentSettings = { behaviour: 'honest', autopilot: false };
