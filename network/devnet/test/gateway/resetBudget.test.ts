/**
 * grpc-js 1.10.3 clients (Caliper 0.6, fabric-gateway 1.5) reset every finished stream; Node's
 * nghttp2 answers more than ~1000 resets on a session (33/s regenerated) with GOAWAY(INTERNAL_ERROR).
 * The devnet's gateway server rotates sessions gracefully before that (src/gateway/resetBudget.ts).
 */
import * as grpc from '@grpc/grpc-js';
import { gateway, peer } from '@hyperledger/fabric-protos';
import { startGatewayServer, type GatewayService } from '../../src/gateway/gatewayService';
import { ResetBucket } from '../../src/gateway/resetBudget';
import { tlsServerCert } from '../chaincode/harness';

// The older client, installed side by side under an npm alias (package.json devDependencies).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const oldGrpc: typeof import('@grpc/grpc-js') = require('grpc-js-1-10');

const EVALUATE = {
  path: '/gateway.Gateway/Evaluate',
  requestStream: false,
  responseStream: false,
  requestSerialize: (r: gateway.EvaluateRequest) => Buffer.from(r.serializeBinary()),
  requestDeserialize: (b: Buffer) => gateway.EvaluateRequest.deserializeBinary(b),
  responseSerialize: (r: gateway.EvaluateResponse) => Buffer.from(r.serializeBinary()),
  responseDeserialize: (b: Buffer) => gateway.EvaluateResponse.deserializeBinary(b),
};

/** A GatewayService stand-in whose Evaluate echoes the transaction id: only the transport is under test. */
function echoService(): GatewayService {
  const evaluate: grpc.handleUnaryCall<gateway.EvaluateRequest, gateway.EvaluateResponse> = (call, cb) => {
    const res = new gateway.EvaluateResponse();
    const r = new peer.Response();
    r.setStatus(200);
    r.setPayload(Buffer.from(call.request.getTransactionId()));
    res.setResult(r);
    cb(null, res);
  };
  return { handlers: () => ({ evaluate }) } as unknown as GatewayService;
}

/** `calls` Evaluate calls, `concurrency` at a time, on one grpc-js 1.10.3 channel; counts failures by message. */
async function load(port: number, tlsRoot: string, calls: number, concurrency: number): Promise<{ ok: number; failures: Map<string, number> }> {
  const Client = oldGrpc.makeGenericClientConstructor({ evaluate: EVALUATE }, 'Gateway');
  const client = new Client(`127.0.0.1:${port}`, oldGrpc.credentials.createSsl(Buffer.from(tlsRoot))) as unknown as grpc.Client & {
    evaluate(req: gateway.EvaluateRequest, cb: (err: grpc.ServiceError | null, res?: gateway.EvaluateResponse) => void): void;
  };
  let next = 0;
  let ok = 0;
  const failures = new Map<string, number>();
  const one = (i: number): Promise<void> =>
    new Promise((resolve) => {
      const req = new gateway.EvaluateRequest();
      req.setTransactionId(`tx${i}`);
      client.evaluate(req, (err, res) => {
        if (err) failures.set(`${err.code} ${err.details}`, (failures.get(`${err.code} ${err.details}`) ?? 0) + 1);
        else if (Buffer.from(res!.getResult()!.getPayload_asU8()).toString() === `tx${i}`) ok++;
        resolve();
      });
    });
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < calls) await one(next++);
    }),
  );
  client.close();
  return { ok, failures };
}

describe('stream reset budget', () => {
  it('models nghttp2 bucket: one token per stream, refilled by rate, capped at burst', () => {
    const b = new ResetBucket(10, 1 / 1000, 0);
    for (let i = 1; i <= 10; i++) expect(b.charge(0)).toBe(10 - i);
    expect(b.charge(3000)).toBe(2); // 0 + 3 regenerated - 1
    expect(b.charge(1_000_000)).toBe(9); // capped at the burst, then charged
  });

  it('a grpc-js 1.10.3 client completes 3,000 calls at concurrency 50 on one channel without a failure', async () => {
    const tls = await tlsServerCert();
    const { server, port } = await startGatewayServer({ host: '127.0.0.1', port: 0, tlsCertPem: tls.certPem, tlsKeyPem: tls.keyPem, service: echoService() });
    try {
      const { ok, failures } = await load(port, tls.certPem, 3000, 50);
      expect(Object.fromEntries(failures)).toEqual({});
      expect(ok).toBe(3000);
    } finally {
      server.forceShutdown();
    }
  }, 180_000);

  it('without the guard, the same load loses calls to GOAWAY(INTERNAL_ERROR) — the cause it guards against', async () => {
    const tls = await tlsServerCert();
    const server = new grpc.Server();
    server.addService({ evaluate: EVALUATE } as unknown as grpc.ServiceDefinition, echoService().handlers());
    const creds = grpc.ServerCredentials.createSsl(null, [{ private_key: Buffer.from(tls.keyPem), cert_chain: Buffer.from(tls.certPem) }], false);
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', creds, (e, p) => (e ? reject(e) : resolve(p))));
    try {
      const { failures } = await load(port, tls.certPem, 3000, 50);
      expect([...failures.keys()]).toContainEqual(expect.stringMatching(/^13 Received RST_STREAM with code 2 .*Session closed with error code 2/));
    } finally {
      server.forceShutdown();
    }
  }, 180_000);
});
