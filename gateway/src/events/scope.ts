import { EVENTS, type EventName } from '@gridledger/protocol';
import type { Principal } from '../auth/apiKeys';

/** Who an event stream is for: everything (operator, regulator) or the meters of a meter key and the participants they are. */
export type Audience = { all: true } | { all: false; meterIds: ReadonlySet<string>; participantIds: ReadonlySet<string> };

/** Named ledger records an event may refer to by id (read once, as the operator, and cached). */
export type RecordKind = 'trade' | 'offer' | 'task';
export type RecordLookup = (kind: RecordKind, id: string) => Promise<Record<string, unknown> | undefined>;

/**
 * Public market information: every API key may see these events, whoever they concern.
 * Opening an offer or an auction and changing the governance / market parameters — what the order
 * book and the rules of the market are. Not public: what happened to someone's offer, trade, wallet,
 * energy, participant record, reputation or committee task.
 */
export const PUBLIC_EVENTS: ReadonlySet<string> = new Set<EventName>([EVENTS.offerCreated, EVENTS.auctionRequested, EVENTS.parametersChanged, EVENTS.marketParametersChanged]);

/** Payload fields that name a participant (pseudonymous id) or a meter directly. */
const PARTICIPANT_FIELDS = ['participantId', 'owner', 'leader', 'voter', 'seller', 'buyer', 'sellerId', 'buyerId'] as const;
const METER_FIELDS = ['meterId', 'sellerMeterId', 'buyerMeterId'] as const;

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const strs = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** Participants and meters a payload (or a record it refers to) names. */
function named(o: Record<string, unknown>): { participants: string[]; meters: string[] } {
  const participants = [...PARTICIPANT_FIELDS.map((f) => str(o[f])), ...strs(o.committee), ...strs(o.parties)].filter((x): x is string => !!x);
  // an admission task's subject is `<participantId>#<attempt>` (a trade task's is the trade id: no match, harmless)
  const subject = str(o.subjectId);
  if (subject) participants.push(subject.replace(/#.*$/, ''));
  return { participants, meters: METER_FIELDS.map((f) => str(o[f])).filter((x): x is string => !!x) };
}

/**
 * THE rule for `GET /api/v1/events` (the only place it is enforced; docs/api.md "Events"):
 * - operator and regulator keys: every event;
 * - a meter key: the PUBLIC_EVENTS above, plus every event that concerns one of its meters or the
 *   participant one of its meters is (`participants:whoAmI` as that meter). An event concerns them when
 *   its payload names them (`meterId`, `participantId`, `owner`, `leader`, `voter`, `seller`/`buyer`,
 *   a `committee` member, the participant of an admission `subjectId`), or when the trade (`tradeId`:
 *   seller or buyer), the committee task (`taskId`: a party, the subject or a committee member) or — for
 *   events without a trade — the offer (`offerId`, `winnerOfferId`: its seller) it refers to does.
 *   Referenced records are read as the operator and cached; a record that cannot be read counts as not
 *   concerning the key (fail closed). Auction buyers are anonymous (commitments), so an auction event
 *   reaches a buyer's key only through the trade it creates (`AuctionTraded`).
 */
export async function concerns(audience: Audience, name: string, payload: unknown, lookup: RecordLookup): Promise<boolean> {
  if (audience.all || PUBLIC_EVENTS.has(name)) return true;
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return false;
  const p = payload as Record<string, unknown>;
  const hit = (o: Record<string, unknown>) => {
    const n = named(o);
    return n.meters.some((m) => audience.meterIds.has(m)) || n.participants.some((x) => audience.participantIds.has(x));
  };
  if (hit(p)) return true;
  const refs: Array<[RecordKind, string | undefined]> = [
    ['trade', str(p.tradeId)],
    ['task', str(p.taskId)],
    ...(str(p.tradeId) ? [] : ([['offer', str(p.offerId)], ['offer', str(p.winnerOfferId)]] as Array<[RecordKind, string | undefined]>)),
  ];
  for (const [kind, id] of refs) {
    if (!id) continue;
    const rec = await lookup(kind, id);
    if (!rec) continue;
    if (hit(rec)) return true; // a trade's validation task has the seller and buyer as its parties
  }
  return false;
}

/** Operator and regulator keys see everything; a meter key its meters (participant ids resolved by `participantOf`). */
export async function audienceOf(p: Principal, participantOf: (meterId: string) => Promise<string | undefined>): Promise<Audience> {
  if (p.roles.includes('operator') || p.roles.includes('regulator')) return { all: true };
  const participantIds = new Set<string>();
  for (const m of p.meters) {
    const pid = await participantOf(m);
    if (pid) participantIds.add(pid);
  }
  return { all: false, meterIds: new Set(p.meters), participantIds };
}

/** A small bounded cache (insertion order eviction) for records that do not change who they concern. */
export class BoundedCache<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly max = 5000) {}
  get(k: string): V | undefined {
    return this.map.get(k);
  }
  set(k: string, v: V): void {
    if (this.map.size >= this.max) this.map.delete(this.map.keys().next().value as string);
    this.map.set(k, v);
  }
  delete(k: string): void {
    this.map.delete(k);
  }
}
