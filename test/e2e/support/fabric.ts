/**
 * Small tier-agnostic helpers for the suites: run ids, error-detail parsing as the protocol doc
 * advises (P§6.2: key on code and details[].message, never on the number of details), bounded
 * event collection, and an identity from a CA that no MSP of the channel knows.
 */
import { KeyObject, randomBytes, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { status } from '@grpc/grpc-js';
import type { ChaincodeEvent, CloseableAsyncIterable, GatewayError, Network } from '@hyperledger/fabric-gateway';
import type { UserCredentials } from './gateway';

/** Unique per run so suites can re-run on a persistent network. */
export function newRunId(): string {
  return `r${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

export const utf8 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('utf8');

/** P§6.2: the chaincode's own message is `details[].message` = `chaincode response <status>, <msg>`. */
export const CHAINCODE_RESPONSE = /^chaincode response (\d+), ([\s\S]*)$/;

export function chaincodeMessages(err: GatewayError): Array<{ status: number; message: string }> {
  return (err.details ?? []).flatMap((d) => {
    const m = CHAINCODE_RESPONSE.exec(d.message);
    return m ? [{ status: Number(m[1]), message: m[2]! }] : [];
  });
}

/** Awaits a promise expected to reject and returns the error (fails clearly if it resolves). */
export async function rejectionOf(p: Promise<unknown>): Promise<unknown> {
  try {
    const value = await p;
    throw new ExpectedRejectionError(value);
  } catch (err) {
    if (err instanceof ExpectedRejectionError) throw err;
    return err;
  }
}

class ExpectedRejectionError extends Error {
  constructor(value: unknown) {
    super(`expected a rejection, but the call succeeded with ${describe(value)}`);
  }
}

function describe(value: unknown): string {
  if (value instanceof Uint8Array) return `"${utf8(value)}"`;
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

/**
 * Waits until the peer behind `network` (one org's gateway connection) has committed block
 * `blockNumber`. Each Fabric peer commits blocks on its own, so a commit status from org A says
 * nothing about org B's peer; its Deliver service hands out a block only once the block, state and
 * history are committed (kv_ledger.go: blocksItr.Next takes the read lock commit holds), so a read
 * through that org afterwards sees every write of the block.
 */
export async function awaitBlock(network: Network, blockNumber: bigint, timeoutMs = 30_000): Promise<void> {
  const blocks = await network.getBlockEvents({ startBlock: blockNumber });
  const timer = setTimeout(() => blocks.close(), timeoutMs);
  try {
    for await (const block of blocks) {
      const n = BigInt(block.getHeader()?.getNumber() ?? -1);
      if (n >= blockNumber) return;
    }
  } catch (err) {
    throw new Error(`block ${blockNumber} not delivered within ${timeoutMs} ms: ${String(err)}`);
  } finally {
    clearTimeout(timer);
    blocks.close();
  }
  throw new Error(`block ${blockNumber} not delivered within ${timeoutMs} ms`);
}

/**
 * Reads chaincode events until `done(collected)` is true or `timeoutMs` passes, then closes the
 * stream (chaincode event streams never end on their own, P§1.7). Keeps only events passing `keep`.
 */
export async function collectEvents(
  events: CloseableAsyncIterable<ChaincodeEvent>,
  keep: (e: ChaincodeEvent) => boolean,
  done: (collected: ChaincodeEvent[]) => boolean,
  timeoutMs: number,
  onEvent?: (e: ChaincodeEvent) => Promise<void>,
): Promise<ChaincodeEvent[]> {
  const collected: ChaincodeEvent[] = [];
  const timer = setTimeout(() => events.close(), timeoutMs);
  try {
    for await (const e of events) {
      if (keep(e)) {
        collected.push(e);
        if (onEvent) await onEvent(e);
      }
      if (done(collected)) break;
    }
  } catch (err) {
    // close() by the timer ends the stream with a CANCELLED error; report what we have.
    if (!isCancelled(err)) throw err;
  } finally {
    clearTimeout(timer);
    events.close();
  }
  return collected;
}

function isCancelled(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === status.CANCELLED;
}

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;

/**
 * A `client` identity (NodeOU OU=client, attribute-free) issued by a freshly made CA that no MSP
 * of the channel trusts, presented under `mspId` — what an attacker with their own CA would send.
 */
export async function newUnknownCaIdentity(mspId: string): Promise<UserCredentials> {
  const caKeys = await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify']);
  const now = new Date(Date.now() - 60_000);
  const notAfter = new Date(Date.now() + 24 * 3600_000);
  const caCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomBytes(8).toString('hex'),
    name: 'CN=ca.unknown.example, O=Unknown',
    notBefore: now,
    notAfter,
    keys: caKeys,
    signingAlgorithm: SIGN,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const userKeys = await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify']);
  const userCert = await x509.X509CertificateGenerator.create({
    serialNumber: randomBytes(8).toString('hex'),
    subject: 'CN=intruder, OU=client',
    issuer: caCert.subject,
    notBefore: now,
    notAfter,
    publicKey: userKeys.publicKey,
    signingKey: caKeys.privateKey,
    signingAlgorithm: SIGN,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  return {
    mspId,
    certPem: userCert.toString('pem'),
    privateKey: KeyObject.from(userKeys.privateKey as unknown as webcrypto.CryptoKey),
  };
}
