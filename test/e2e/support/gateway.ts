/**
 * Gateway connections built only from network.json: one TLS gRPC client per org (org TLS root,
 * server name overridden to the peer's host alias, as every Fabric sample does for localhost
 * endpoints) and fabric-gateway identities/signers from the user's certificate and key files.
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { connect, signers, type Gateway, type GrpcClient, type Identity, type Signer } from '@hyperledger/fabric-gateway';
import { clientUserName, userFiles, type OrgDescriptor } from './network';

/** Per-call deadlines: generous enough for a loaded 2-core machine and Fabric's 2 s batch timeout. */
export const DEADLINES_MS = { evaluate: 15_000, endorse: 30_000, submit: 15_000, commitStatus: 60_000 } as const;

/**
 * The @grpc/grpc-js copy that fabric-gateway itself loads. npm may install a second copy for this
 * workspace (1.14.0 here vs 1.14.7 under fabric-gateway); fabric-gateway recognises errors of
 * streaming calls (chaincode/block events) with `err.metadata instanceof Metadata` of ITS copy, so with
 * a client from another copy a stream failure surfaces as a bare gRPC error instead of a
 * GatewayError (unary calls are unaffected). Build clients from the same copy to rule that out.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const grpc: typeof import('@grpc/grpc-js') = require(
  require.resolve('@grpc/grpc-js', { paths: [dirname(require.resolve('@hyperledger/fabric-gateway'))] }),
);

export function newGrpcClient(o: OrgDescriptor): GrpcClient & { close(): void } {
  const tlsRoot = readFileSync(o.peer.tlsRootCertPath);
  return new grpc.Client(o.peer.endpoint, grpc.credentials.createSsl(tlsRoot), {
    'grpc.ssl_target_name_override': o.peer.hostAlias,
  }) as unknown as GrpcClient & { close(): void };
}

export interface UserCredentials {
  mspId: string;
  certPem: string;
  privateKey: KeyObject;
}

export function loadUser(o: OrgDescriptor, user: string = clientUserName(o)): UserCredentials {
  const files = userFiles(o, user);
  return {
    mspId: o.mspId,
    certPem: readFileSync(files.certPath, 'utf8'),
    privateKey: createPrivateKey(readFileSync(files.keyPath)),
  };
}

export function toIdentity(c: { mspId: string; certPem: string }): Identity {
  return { mspId: c.mspId, credentials: Buffer.from(c.certPem) };
}

export function toSigner(c: { privateKey: KeyObject }): Signer {
  return signers.newPrivateKeySigner(c.privateKey);
}

function deadline(ms: number): () => { deadline: number } {
  return () => ({ deadline: Date.now() + ms });
}

/** fabric-gateway `connect` with sensible deadlines; the caller owns (and closes) the gRPC client. */
export function connectGateway(client: GrpcClient, creds: { mspId: string; certPem: string; privateKey: KeyObject }): Gateway {
  return connect({
    client,
    identity: toIdentity(creds),
    signer: toSigner(creds),
    evaluateOptions: deadline(DEADLINES_MS.evaluate),
    endorseOptions: deadline(DEADLINES_MS.endorse),
    submitOptions: deadline(DEADLINES_MS.submit),
    commitStatusOptions: deadline(DEADLINES_MS.commitStatus),
  });
}

/** A gateway plus the gRPC client it uses; `close()` closes both. */
export interface Connection {
  org: OrgDescriptor;
  client: GrpcClient & { close(): void };
  gateway: Gateway;
  close(): void;
}

/**
 * Connects to `orgName`'s peer gateway as `user` of that org (default: its operator), or with
 * explicit credentials (e.g. an identity just enrolled at the CA, or one from an unknown CA).
 */
export function connectOrg(
  o: OrgDescriptor,
  creds: UserCredentials | string = clientUserName(o),
): Connection {
  const client = newGrpcClient(o);
  const gateway = connectGateway(client, typeof creds === 'string' ? loadUser(o, creds) : creds);
  return {
    org: o,
    client,
    gateway,
    close() {
      gateway.close();
      client.close();
    },
  };
}
