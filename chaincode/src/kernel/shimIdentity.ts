/**
 * Parses each caller certificate once per chaincode process instead of once per invocation.
 *
 * fabric-shim builds a new `ClientIdentity` for every invocation, evaluations included
 * (lib/contract-spi/chaincodefromcontract.js `invokeFunctionality`: `new ClientIdentity(stub)`), and
 * its constructor parses the creator's PEM certificate with @fidm/x509 (lib/chaincode.js:
 * `Certificate.fromPEM`, an ASN.1 decode and schema validation in JavaScript) to read the subject,
 * issuer and the `hf.*`/attribute extension. Under bench:market that parse was about a sixth of the
 * chaincode servers' CPU (docs/benchmarks.md "Devnet and chaincode per transaction"), though a
 * community's callers are a few hundred certificates, each calling many times.
 *
 * The parse is a pure function of the PEM text, and ClientIdentity only reads the parsed certificate's
 * subject, issuer and extensions (it keeps none of it), so `Certificate.fromPEM` is memoised by its
 * input here: the same text gives a certificate parsed the first time. The caller's id, MSP ID and
 * attributes — all a contract sees — are exactly what they were; nothing a peer endorses changes.
 * Bounded (the oldest entries leave first), so 10,000 households cost at most `max` parsed certificates
 * of memory; beyond that the hit rate falls, never the result. The class is the instance fabric-shim
 * itself resolves (its own dependency), so the hook reaches it in any install layout. Returns whether
 * it was installed (test/kernel/shimIdentity.test.ts notices an @fidm/x509 without `fromPEM`).
 */
import { dirname } from 'path';

const INSTALLED = Symbol.for('gridledger.memoiseShimCertificates');

interface CertificateClass {
  fromPEM(data: Buffer | string): unknown;
  [INSTALLED]?: Map<string, unknown>;
}

/** @fidm/x509's Certificate class as fabric-shim loads it. */
export function shimCertificateClass(): CertificateClass | undefined {
  try {
    const shimDir = dirname(require.resolve('fabric-shim/package.json'));
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- resolved from fabric-shim's own location, so it is its instance
    const x509 = require(require.resolve('@fidm/x509', { paths: [shimDir] })) as { Certificate?: CertificateClass };
    return x509.Certificate;
  } catch {
    return undefined;
  }
}

export function memoiseShimCertificates(max = 5000): boolean {
  const cls = shimCertificateClass();
  if (!cls || typeof cls.fromPEM !== 'function') return false;
  if (cls[INSTALLED]) return true;
  const parse = cls.fromPEM.bind(cls);
  const parsed = new Map<string, unknown>();
  cls.fromPEM = function fromPEMOnce(data: Buffer | string): unknown {
    const key = typeof data === 'string' ? data : Buffer.isBuffer(data) ? `\u0000${data.toString('latin1')}` : undefined;
    if (key === undefined) return parse(data);
    const hit = parsed.get(key);
    if (hit !== undefined) return hit;
    const cert = parse(data); // a malformed certificate throws here, every time, as before
    if (parsed.size >= max) parsed.delete(parsed.keys().next().value as string);
    parsed.set(key, cert);
    return cert;
  };
  cls[INSTALLED] = parsed;
  return true;
}
