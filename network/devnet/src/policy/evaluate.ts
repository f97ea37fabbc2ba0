/**
 * Policy evaluation as Fabric does it:
 *   - identities are de-duplicated by MSP ID + certificate hash first
 *     (F `common/policies/policy.go` SignatureSetToValidIdentities);
 *   - signature policies consume identities: a SignedBy takes the first unused identity that
 *     satisfies its principal, and an n-out-of gate keeps a sub-rule's consumption only if that
 *     sub-rule succeeded (F `common/cauthdsl/cauthdsl.go` compile) — so one identity never
 *     counts for two principals;
 *   - implicit-meta policies evaluate the named sub-policy of every application org independently
 *     over all identities and need 1 (ANY), all (ALL) or floor(n/2)+1 (MAJORITY) of them
 *     (F `common/policies/implicitmeta.go`); with no orgs the threshold is 0.
 * Org sub-policies are test-network's (P§4.3): Endorsement OR(peer), Readers OR(admin, peer,
 * client), Writers OR(admin, client), Admins OR(admin).
 */
import type { Identity, MspRegistry } from '../identity/msp';
import { parsePolicy, Policy, Principal, PrincipalRole } from './parser';

export interface PolicyContext {
  /** MSP IDs of the channel's application orgs (implicit-meta policies range over them). */
  orgMspIds: string[];
  msp: Pick<MspRegistry, 'satisfiesPrincipal'>;
}

export class PolicyEvaluationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PolicyEvaluationError';
  }
}

const ORG_SUB_POLICIES: Record<string, PrincipalRole[]> = {
  Endorsement: ['peer'],
  Readers: ['admin', 'peer', 'client'],
  Writers: ['admin', 'client'],
  Admins: ['admin'],
};

/** The signature policy an org defines under `name` (test-network configtx.yaml). */
export function orgSubPolicy(mspId: string, name: string): Policy {
  const roles = ORG_SUB_POLICIES[name];
  if (!roles) {
    throw new PolicyEvaluationError(
      `unknown org sub-policy '${name}' (known: ${Object.keys(ORG_SUB_POLICIES).join(', ')})`,
    );
  }
  return { type: 'n-out-of', n: 1, rules: roles.map((role) => ({ type: 'signed-by', principal: { mspId, role } })) };
}

function threshold(rule: 'ANY' | 'ALL' | 'MAJORITY', count: number): number {
  if (count === 0) return 0;
  if (rule === 'ANY') return 1;
  if (rule === 'ALL') return count;
  return Math.floor(count / 2) + 1;
}

function dedup(identities: Identity[]): Identity[] {
  const seen = new Set<string>();
  const out: Identity[] = [];
  for (const id of identities) {
    const key = `${id.mspId}\u0000${id.id}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(id);
  }
  return out;
}

function evalSignature(policy: Policy, ids: Identity[], used: boolean[], ctx: PolicyContext): boolean {
  switch (policy.type) {
    case 'signed-by': {
      for (let i = 0; i < ids.length; i++) {
        if (used[i]) continue;
        if (ctx.msp.satisfiesPrincipal(ids[i]!, policy.principal)) {
          used[i] = true;
          return true;
        }
      }
      return false;
    }
    case 'n-out-of': {
      let verified = 0;
      for (const rule of policy.rules) {
        const trial = [...used];
        if (evalSignature(rule, ids, trial, ctx)) {
          verified++;
          for (let i = 0; i < used.length; i++) used[i] = trial[i]!;
        }
      }
      return verified >= policy.n;
    }
    case 'implicit-meta':
      throw new PolicyEvaluationError('an implicit-meta policy cannot be nested inside a signature policy');
  }
}

/** True when the (already validated) identities satisfy the policy. */
export function evaluatePolicy(policy: Policy, identities: Identity[], ctx: PolicyContext): boolean {
  const ids = dedup(identities);
  if (policy.type === 'implicit-meta') {
    const subs = ctx.orgMspIds.map((m) => orgSubPolicy(m, policy.subPolicy));
    let satisfied = 0;
    for (const sub of subs) {
      if (evalSignature(sub, ids, ids.map(() => false), ctx)) satisfied++;
    }
    return satisfied >= threshold(policy.rule, subs.length);
  }
  return evalSignature(policy, ids, ids.map(() => false), ctx);
}

/**
 * Every principal the policy names (implicit-meta expanded over the orgs), de-duplicated, in
 * order of appearance. Used for collection membership: a creator is a member when it satisfies
 * any of them.
 */
export function principalsOf(policy: Policy, orgMspIds: string[]): Array<{ mspId: string; role: string }> {
  const out: Principal[] = [];
  const seen = new Set<string>();
  const walk = (p: Policy): void => {
    if (p.type === 'signed-by') {
      const key = `${p.principal.mspId}\u0000${p.principal.role}`;
      if (!seen.has(key)) {
        seen.add(key);
        out.push({ ...p.principal });
      }
    } else if (p.type === 'n-out-of') {
      p.rules.forEach(walk);
    } else {
      for (const m of orgMspIds) walk(orgSubPolicy(m, p.subPolicy));
    }
  };
  walk(policy);
  return out;
}

/** Collection membership (P§3.6): the creator satisfies at least one principal of the member policy. */
export function isMemberOf(policy: Policy, creator: Identity, ctx: PolicyContext): boolean {
  return principalsOf(policy, ctx.orgMspIds).some((p) => ctx.msp.satisfiesPrincipal(creator, p as Principal));
}

/**
 * Policy texts → decisions, with parsed policies cached; fits the peer's PolicyEvaluator view
 * (`satisfied(text, identities)`, `memberMsps(text)`).
 */
export class ChannelPolicies {
  private readonly cache = new Map<string, Policy>();

  constructor(private readonly ctx: PolicyContext) {}

  parse(text: string): Policy {
    let p = this.cache.get(text);
    if (!p) {
      p = parsePolicy(text);
      this.cache.set(text, p);
    }
    return p;
  }

  satisfied(text: string, identities: Identity[]): boolean {
    return evaluatePolicy(this.parse(text), identities, this.ctx);
  }

  /** MSP IDs named by a (collection member) policy — the orgs that keep the private values. */
  memberMsps(text: string): string[] {
    return [...new Set(principalsOf(this.parse(text), this.ctx.orgMspIds).map((p) => p.mspId))];
  }

  isMember(text: string, creator: Identity): boolean {
    return isMemberOf(this.parse(text), creator, this.ctx);
  }
}
