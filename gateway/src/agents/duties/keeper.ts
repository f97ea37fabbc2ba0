/**
 * Keeper duties: the transactions anyone may call once a deadline has passed (docs/market.md §7,
 * docs/governance.md §6–7). Every utility's agents run them, so a stuck trade never stays stuck because
 * one utility is down; duplicates are harmless — the loser of a race gets CONFLICT (already closed) or
 * PRECONDITION_FAILED, re-reads, and finds nothing left to do.
 *
 * Each function says, from the object as read now, either when to act (ledger time, ms), or that the
 * duty is over. Ledger times are the clock-guarded transaction time, so the keeper acts a margin after
 * the deadline (its own clock may be a little behind the endorsers').
 */
import type { AuctionView, OfferView, ParticipantView, TaskView, TradeView } from './types';

export type KeeperKind = 'offer-expire' | 'trade-timeout' | 'auction-close' | 'auction-expire' | 'task-redraw' | 'task-draw' | 'index-sync' | 'score-fold';

/** The chaincode function each keeper duty submits (its one argument is the duty's subject). */
export const KEEPER_FN: Record<KeeperKind, string> = {
  'offer-expire': 'offers:expire',
  'trade-timeout': 'trades:timeout',
  'auction-close': 'auctions:close',
  'auction-expire': 'auctions:expire',
  'task-redraw': 'committees:redraw',
  'task-draw': 'committees:draw',
  'index-sync': 'participants:syncCommitteeIndex',
  'score-fold': 'participants:foldScore',
};

/** The read that tells whether the duty still applies. */
export const KEEPER_READ: Record<KeeperKind, string> = {
  'offer-expire': 'offers:get',
  'trade-timeout': 'trades:get',
  'auction-close': 'auctions:get',
  'auction-expire': 'auctions:get',
  'task-redraw': 'committees:getTask',
  'task-draw': 'committees:getTask',
  'index-sync': 'participants:get',
  'score-fold': 'participants:get',
};

export type KeeperPlan = { act: true } | { act: false; atMs: number } | { done: string };

const at = (deadlineMs: number, nowMs: number): KeeperPlan => (nowMs >= deadlineMs ? { act: true } : { act: false, atMs: deadlineMs });

/** `offers:expire` from `expiresAt` on (seconds), while the offer is open. */
export function offerPlan(o: OfferView, nowMs: number): KeeperPlan {
  if (o.status !== 'OPEN') return { done: `offer ${o.status.toLowerCase()}` };
  return at(o.expiresAt * 1000, nowMs);
}

/** `trades:timeout`: past the delivery deadline while awaiting energy, past the stage window in a stage. */
export function tradePlan(t: TradeView, nowMs: number): KeeperPlan {
  if (t.state === 'AWAITING_ENERGY') return at(t.deliveryDeadline * 1000, nowMs);
  if (t.state === 'EXECUTION' || t.state === 'FINAL') {
    if (t.stageDeadline === undefined) return { done: 'stage without a window' };
    return at(t.stageDeadline * 1000, nowMs);
  }
  return { done: `trade ${t.state}` };
}

/** `auctions:close` from t2 on while open. */
export function auctionClosePlan(a: AuctionView, nowMs: number): KeeperPlan {
  if (a.status !== 'OPEN') return { done: `auction ${a.status}` };
  return at(a.t2 * 1000, nowMs);
}

/** `auctions:expire` from the claim deadline on while awarded (a re-award moves the deadline). */
export function auctionExpirePlan(a: AuctionView, nowMs: number): KeeperPlan {
  if (a.status === 'OPEN') return { act: false, atMs: Math.max(a.t2 * 1000, nowMs) + 60_000 };
  if (a.status !== 'AWARDED') return { done: `auction ${a.status}` };
  return at(a.claimDeadline * 1000, nowMs);
}

/** `committees:redraw` once an active round's deadline passed without a decision (the chaincode refuses at the deadline itself). */
export function redrawPlan(t: TaskView, round: number, nowMs: number): KeeperPlan {
  if (t.status === 'CLOSED') return { done: `task closed (${t.outcome})` };
  if (t.round !== round) return { done: `round ${round} already replaced by round ${t.round}` };
  if (t.status !== 'ACTIVE') return { done: `task ${t.status}` };
  return at((t.deadlineAt + 1) * 1000, nowMs);
}

/**
 * How long a task left `seeded` (its draw found too few eligible members, or only members of too few
 * utilities: CUSTODIAN_CAP) waits before the keeper tries `committees:draw` again when no admission or
 * reinstatement woke it first (docs/agents.md §3). A failed draw is an endorsement that commits nothing.
 */
export const SEEDED_RETRY_MS = 10 * 60_000;

/**
 * `committees:draw` while round `round` of the task is `SEEDED` without a committee (docs/governance.md
 * §6: the beacon completed but the draw could not fill the committee). Over once a committee is drawn, the
 * round replaced or the task closed; a task still collecting its beacon is looked at again shortly.
 */
export function drawPlan(t: TaskView, round: number, nowMs: number): KeeperPlan {
  if (t.status === 'CLOSED') return { done: `task closed (${t.outcome})` };
  if (t.round !== round) return { done: `round ${round} already replaced by round ${t.round}` };
  if (t.status === 'ACTIVE') return { done: 'committee drawn' };
  if (t.status !== 'SEEDED') return { act: false, atMs: nowMs + 5_000 };
  return { act: true };
}

/**
 * `participants:syncCommitteeIndex` once a ban ran out. The public view shows the effective status, so
 * a lapsed ban reads `ACTIVE` with `bannedUntil` (Unix seconds) in the past: that is when the index is synced (once).
 */
export function indexSyncPlan(p: ParticipantView, nowMs: number): KeeperPlan {
  if (!p.bannedUntil) return { done: 'no ban' };
  if (p.status === 'BANNED') return at((p.bannedUntil + 1) * 1000, nowMs);
  if (p.status === 'ACTIVE' && nowMs >= p.bannedUntil * 1000) return { act: true };
  return { done: `participant ${p.status}` };
}

/** When the custodian's keeper folds a participant's pending score credits (docs/agents.md §3 `score-fold`). */
export interface FoldPolicy {
  /** quiet: no new credit for this long (the settlements crediting it are over for now) */
  quietMs: number;
  /** staleness bound: the oldest pending credit is this old, whatever keeps arriving */
  maxAgeMs: number;
  /** work bound: this many credits pending, whatever keeps arriving */
  maxPending: number;
}

/**
 * Defaults where the ledger's slot length is not known yet (docs/agents.md §3): those `foldPolicyFor`
 * gives for the devnet's 30 s slots — quiet for 60 s, at most 5 minutes of lag, at most 32 credits.
 */
export const DEFAULT_FOLD_POLICY: FoldPolicy = { quietMs: 60_000, maxAgeMs: 300_000, maxPending: 32 };

/**
 * The fold policy for Eq. (1) slots of `slotSeconds` (governance parameters): a burst of credits is the
 * settlements of one delivery interval, which end within about two slots of its end, so quiet means two
 * slots without a credit, and the leaderboard may lag ten slots at most (30 s slots: 60 s and 5 minutes;
 * production's 300 s slots: 10 and 50 minutes). What the gateway's configuration sets wins.
 */
export function foldPolicyFor(slotSeconds: number | undefined, configured: Partial<FoldPolicy> = {}): FoldPolicy {
  const derived = slotSeconds && slotSeconds > 0 ? { quietMs: 2 * slotSeconds * 1000, maxAgeMs: 10 * slotSeconds * 1000 } : {};
  return { ...DEFAULT_FOLD_POLICY, ...derived, ...configured };
}

/**
 * `participants:foldScore` for a participant of this utility's meters, from `participants:get`'s credit
 * summary. A fold writes the participant record, which every settlement crediting it, every offer and
 * every draw that considers it reads: folding while credits keep arriving would invalidate those (MVCC,
 * code 11) and be invalidated by them (a new credit in its range, code 12). So it waits until the
 * participant has been quiet for `quietMs`; a participant that is never quiet is folded once its oldest
 * credit is `maxAgeMs` old or `maxPending` credits are pending (the leaderboard's lag and the fold's size
 * stay bounded, at the price of the settlements in flight at that moment, retried by their submitters). Over once nothing is pending (a lowering, a re-stake,
 * the meter or another caller folded meanwhile: the "lost race", nothing to do).
 */
export function foldPlan(p: ParticipantView, nowMs: number, policy: FoldPolicy): KeeperPlan {
  if (p.pendingCredits === undefined) return { done: 'participants:get reports no credit summary (chaincode before participants:foldScore)' };
  if (p.pendingCredits === 0) return { done: 'no credits pending' };
  if (p.pendingCredits >= policy.maxPending) return { act: true };
  const quietAt = (p.newestCreditAt ?? 0) * 1000 + policy.quietMs;
  const staleAt = (p.oldestCreditAt ?? 0) * 1000 + policy.maxAgeMs;
  return at(Math.min(quietAt, staleAt), nowMs);
}

/**
 * How long after a deadline this utility's keeper acts: a base margin for clock skew, plus a stagger per
 * utility so the consortium's keepers do not all collide on the same key in the same block.
 *
 * A deadline that concerns a meter of one utility — an offer's seller (`custodianMspId`) — is that
 * utility's to keep first: its keeper acts at the base margin, and the other utilities' keepers stand in
 * only `backupMs` later (plus their stagger). By then the custodian's call has normally committed, and its
 * event (`OfferClosed`) has ended their duties without a read or a transaction; should the custodian's
 * gateway be down, they still act (docs/agents.md §3). Without a custodian (auctions are pseudonymous;
 * committee tasks, trade timeouts and the rest) every keeper keeps the base margin plus its stagger.
 */
export function keeperDelayMs(mspId: string, baseMs: number, staggerMs: number, custodianMspId?: string, backupMs = 0): number {
  if (custodianMspId && custodianMspId === mspId) return baseMs;
  let h = 0;
  for (const ch of mspId) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return baseMs + (custodianMspId ? backupMs : 0) + (h % 3) * staggerMs;
}

/**
 * `agents.keeper.backupMs` where the configuration sets none: time for the seller's utility's expiry to
 * commit and its event to reach the others under load (a few seconds in bench:market's 96- and
 * 240-household runs), with room to spare; short enough that an offer of a utility that is down closes soon.
 */
export const DEFAULT_KEEPER_BACKUP_MS = 20_000;
