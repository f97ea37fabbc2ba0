/** Endorsement / collection / ACL policies: parsing (parser.ts) and evaluation (evaluate.ts). */
export { parsePolicy, PolicyParseError } from './parser';
export type { Policy, Principal, PrincipalRole } from './parser';
export {
  ChannelPolicies,
  evaluatePolicy,
  isMemberOf,
  orgSubPolicy,
  PolicyEvaluationError,
  principalsOf,
} from './evaluate';
export type { PolicyContext } from './evaluate';
