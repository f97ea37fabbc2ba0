/**
 * One `protos.Chaincode/Connect` stream to a chaincode-as-a-service server, peer side (P§3.1-3.2).
 * The peer is the gRPC client; the chaincode speaks first with REGISTER, the peer answers
 * REGISTERED then READY. Nothing else is ever sent unprompted: the Node shim exits on any
 * unexpected message type, KEEPALIVE included (P§8.1).
 */
import * as grpc from '@grpc/grpc-js';
import { peer } from '@hyperledger/fabric-protos';

const T = peer.ChaincodeMessage.Type;

export interface ChaincodeTlsOptions {
  rootCertPem: string;
  /** For servers started with --chaincode-tls-client-cacert-file (mutual TLS). */
  clientCertPem?: string;
  clientKeyPem?: string;
  /** Server name to verify instead of the host of `address` (connection.json `domain`). */
  serverNameOverride?: string;
}

export interface ConnectOptions {
  address: string;
  tls?: ChaincodeTlsOptions;
  /** connection.json dial_timeout; Fabric's default is 3 s. */
  dialTimeoutMs: number;
  /** If set, REGISTER must carry this chaincode id (the package id the peer launched). */
  expectedChaincodeId?: string;
}

export class ConnectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConnectionError';
  }
}

type Stream = grpc.ClientDuplexStream<peer.ChaincodeMessage, peer.ChaincodeMessage>;

export class ChaincodeConnection {
  private ended = false;
  private messageHandler: (msg: peer.ChaincodeMessage) => void = () => undefined;
  private endHandler: (reason: string) => void = () => undefined;

  private constructor(
    private readonly client: peer.ChaincodeClient,
    private readonly stream: Stream,
    /** The chaincode id the server registered with. */
    readonly chaincodeId: string,
  ) {
    stream.on('data', (msg: peer.ChaincodeMessage) => this.messageHandler(msg));
    stream.on('error', (err: Error) => this.terminate(err.message));
    stream.on('end', () => this.terminate('chaincode stream terminated'));
    stream.on('close', () => this.terminate('chaincode stream terminated'));
  }

  static async open(opts: ConnectOptions): Promise<ChaincodeConnection> {
    const client = new peer.ChaincodeClient(opts.address, credentials(opts.tls), channelOptions(opts.tls));
    try {
      await new Promise<void>((resolve, reject) =>
        client.waitForReady(Date.now() + opts.dialTimeoutMs, (err) => (err ? reject(new ConnectionError(err.message)) : resolve())),
      );
      const stream = client.connect();
      const id = await handshake(stream, opts);
      return new ChaincodeConnection(client, stream, id);
    } catch (err) {
      client.close();
      throw err instanceof ConnectionError ? err : new ConnectionError((err as Error).message);
    }
  }

  get alive(): boolean {
    return !this.ended;
  }

  onMessage(fn: (msg: peer.ChaincodeMessage) => void): void {
    this.messageHandler = fn;
  }

  onEnd(fn: (reason: string) => void): void {
    this.endHandler = fn;
  }

  send(msg: peer.ChaincodeMessage): void {
    if (!this.ended) this.stream.write(msg);
  }

  close(): void {
    if (this.ended) return;
    this.terminate('chaincode stream closed by the peer');
  }

  private terminate(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.stream.removeAllListeners('data');
    this.stream.on('error', () => undefined); // a late error after cancel must not be unhandled
    this.stream.cancel();
    this.client.close();
    this.endHandler(reason);
  }
}

function credentials(tls: ChaincodeTlsOptions | undefined): grpc.ChannelCredentials {
  if (!tls) return grpc.credentials.createInsecure();
  return grpc.credentials.createSsl(
    Buffer.from(tls.rootCertPem),
    tls.clientKeyPem ? Buffer.from(tls.clientKeyPem) : null,
    tls.clientCertPem ? Buffer.from(tls.clientCertPem) : null,
  );
}

function channelOptions(tls: ChaincodeTlsOptions | undefined): grpc.ChannelOptions {
  const o: grpc.ChannelOptions = {
    // Fabric's chaincode connection has no message size limits (shim side is -1 too, P§3.1).
    'grpc.max_receive_message_length': -1,
    'grpc.max_send_message_length': -1,
    // channelz bookkeeping (per-call counters and traces) costs CPU on every message; nothing reads it
    'grpc.enable_channelz': 0,
  };
  if (tls?.serverNameOverride) o['grpc.ssl_target_name_override'] = tls.serverNameOverride;
  return o;
}

/** Waits for REGISTER, answers REGISTERED + READY; resolves with the registered chaincode id. */
function handshake(stream: Stream, opts: ConnectOptions): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => fail(`no REGISTER from chaincode within ${opts.dialTimeoutMs} ms`), opts.dialTimeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      stream.off('data', onData);
      stream.off('error', onError);
      stream.off('end', onEnd);
    };
    const fail = (why: string): void => {
      cleanup();
      stream.on('error', () => undefined);
      stream.cancel();
      reject(new ConnectionError(why));
    };
    const onError = (err: Error): void => fail(err.message);
    const onEnd = (): void => fail('chaincode stream terminated during registration');
    const onData = (msg: peer.ChaincodeMessage): void => {
      if (msg.getType() !== T.REGISTER) return fail(`expected REGISTER, got message type ${msg.getType()}`);
      const id = peer.ChaincodeID.deserializeBinary(msg.getPayload_asU8()).getName();
      if (opts.expectedChaincodeId && id !== opts.expectedChaincodeId) {
        return fail(`peer will not accept external chaincode connection ${id} (expected ${opts.expectedChaincodeId})`);
      }
      cleanup();
      const registered = new peer.ChaincodeMessage();
      registered.setType(T.REGISTERED);
      stream.write(registered);
      // READY with an empty ChaincodeAdditionalParams: no write batches, no GET_STATE_MULTIPLE.
      const ready = new peer.ChaincodeMessage();
      ready.setType(T.READY);
      stream.write(ready);
      resolve(id);
    };
    stream.on('data', onData);
    stream.on('error', onError);
    stream.on('end', onEnd);
  });
}
