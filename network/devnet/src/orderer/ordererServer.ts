/**
 * The ordering node's gRPC endpoint (F orderer/common/server, orderer.AtomicBroadcast): Broadcast
 * and Deliver, for clients that talk to the orderer themselves (fabric-network 2.2, the `peer` CLI's
 * `--orderer`). The devnet has one in-process orderer; this endpoint is where the Fabric tier's
 * first orderer listens (network.yaml port base + 21).
 * - Broadcast (F orderer/common/broadcast/broadcast.go Handle): one BroadcastResponse{status, info}
 *   per envelope, the same checks the gateway's Submit goes through (`Orderer.broadcast`); the
 *   stream ends after a response that is not SUCCESS, as Fabric's handler returns then.
 * - Deliver (F common/deliver): blocks by SeekInfo, as the peer's Deliver serves them (deliverService.ts).
 *   orderer.DeliverResponse{status=1, block=2} has the same fields as the peer's
 *   peer.DeliverResponse for those two, so the peer's responses are sent as they are.
 */
import * as grpc from '@grpc/grpc-js';
import { common, orderer } from '@hyperledger/fabric-protos';
import type { DeliverService } from '../gateway/deliverService';
import { guardStreamResetBudget } from '../gateway/resetBudget';
import type { BroadcastResult } from './orderer';

const AB = orderer.AtomicBroadcastService as unknown as Record<string, grpc.MethodDefinition<unknown, unknown>>;

/** AtomicBroadcast with Broadcast taking raw envelope bytes and Deliver sending the peer's DeliverResponse messages. */
export const ATOMIC_BROADCAST_SERVICE: grpc.ServiceDefinition = {
  broadcast: { ...AB.broadcast!, requestDeserialize: (b: Buffer) => b },
  deliver: { ...AB.deliver!, responseSerialize: (r: { serializeBinary(): Uint8Array }) => Buffer.from(r.serializeBinary()) },
} as unknown as grpc.ServiceDefinition;

export function broadcastHandler(o: { broadcast(envelope: Uint8Array): BroadcastResult }): grpc.handleBidiStreamingCall<Buffer, orderer.BroadcastResponse> {
  return (call) => {
    let ended = false;
    const end = (): void => {
      if (!ended) {
        ended = true;
        call.end();
      }
    };
    call.on('data', (envelope: Buffer) => {
      if (ended) return;
      const r = o.broadcast(envelope);
      const res = new orderer.BroadcastResponse();
      res.setStatus(r.status as common.StatusMap[keyof common.StatusMap]);
      res.setInfo(r.info);
      call.write(res);
      if (r.status !== common.Status.SUCCESS) end();
    });
    call.on('end', end);
    call.on('error', () => {
      ended = true;
    });
  };
}

export interface OrdererServerOptions {
  host: string;
  port: number;
  tlsCertPem: string;
  tlsKeyPem: string;
  orderer: { broadcast(envelope: Uint8Array): BroadcastResult };
  deliver: DeliverService;
}

export async function startOrdererServer(o: OrdererServerOptions): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server({
    'grpc.max_receive_message_length': 100 * 1024 * 1024,
    'grpc.max_send_message_length': 100 * 1024 * 1024,
    'grpc.enable_channelz': 0,
  });
  server.addService(ATOMIC_BROADCAST_SERVICE, { broadcast: broadcastHandler(o.orderer), deliver: o.deliver.handlers().deliver! });
  const creds = grpc.ServerCredentials.createSsl(null, [{ private_key: Buffer.from(o.tlsKeyPem), cert_chain: Buffer.from(o.tlsCertPem) }], false);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${o.host}:${o.port}`, creds, (err, p) => {
      if (!err) return resolve(p);
      if (/EADDRINUSE/.test(err.message)) {
        return reject(Object.assign(new Error(`listen EADDRINUSE: address already in use ${o.host}:${o.port}`), { code: 'EADDRINUSE' }));
      }
      reject(err);
    });
  });
  guardStreamResetBudget(server);
  return { server, port };
}
