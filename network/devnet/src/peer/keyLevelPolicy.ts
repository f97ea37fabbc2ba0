/**
 * State-based (key-level) endorsement policies (F core/common/validation/statebased): a key's
 * VALIDATION_PARAMETER metadata holds a marshalled common.SignaturePolicyEnvelope, set by the
 * chaincode with setStateValidationParameter. The envelope is rendered into the policy language
 * the policy module evaluates (`OutOf(n, 'MSP.role', ...)`), so one evaluator serves chaincode,
 * collection and key-level policies alike.
 */
import { common, msp } from '@hyperledger/fabric-protos';

export const VALIDATION_PARAMETER = 'VALIDATION_PARAMETER';

export class KeyPolicyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyPolicyError';
  }
}

const ROLE_NAMES: Record<number, string> = {
  [msp.MSPRole.MSPRoleType.MEMBER]: 'member',
  [msp.MSPRole.MSPRoleType.ADMIN]: 'admin',
  [msp.MSPRole.MSPRoleType.CLIENT]: 'client',
  [msp.MSPRole.MSPRoleType.PEER]: 'peer',
  [msp.MSPRole.MSPRoleType.ORDERER]: 'orderer',
};

/** SignaturePolicyEnvelope bytes → policy text; throws KeyPolicyError for what cannot be expressed. */
export function signaturePolicyEnvelopeToText(bytes: Uint8Array): string {
  let env: common.SignaturePolicyEnvelope;
  try {
    env = common.SignaturePolicyEnvelope.deserializeBinary(bytes);
  } catch (err) {
    throw new KeyPolicyError(`validation parameter is not a SignaturePolicyEnvelope: ${(err as Error).message}`);
  }
  const principals = env.getIdentitiesList().map((p, i) => {
    if (p.getPrincipalClassification() !== msp.MSPPrincipal.Classification.ROLE) {
      throw new KeyPolicyError(`principal ${i}: only ROLE principals are supported`);
    }
    const role = msp.MSPRole.deserializeBinary(p.getPrincipal_asU8());
    const name = ROLE_NAMES[role.getRole()];
    if (!name) throw new KeyPolicyError(`principal ${i}: unknown role ${role.getRole()}`);
    return `'${role.getMspIdentifier()}.${name}'`;
  });
  const render = (rule: common.SignaturePolicy | undefined): string => {
    if (!rule) throw new KeyPolicyError('empty rule');
    if (rule.getTypeCase() === common.SignaturePolicy.TypeCase.SIGNED_BY) {
      const p = principals[rule.getSignedBy()];
      if (!p) throw new KeyPolicyError(`signed_by ${rule.getSignedBy()} names no identity`);
      return p;
    }
    const n = rule.getNOutOf();
    if (!n) throw new KeyPolicyError('rule is neither signed_by nor n_out_of');
    const rules = n.getRulesList();
    if (rules.length === 0) throw new KeyPolicyError('n_out_of without rules');
    return `OutOf(${n.getN()}, ${rules.map(render).join(', ')})`;
  };
  return render(env.getRule());
}
