import fs from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import type { NetworkDescriptor } from '../fabric/network';

/**
 * Readiness of the ordering service from network.json's `orderer.nodes`: each node's TLS gRPC endpoint
 * must accept a connection. Passes when enough nodes answer for the consensus to make progress
 * (BFT: n − ⌊(n−1)/3⌋, Raft: a majority). Without an `orderer` section the check passes and says so.
 */
export function ordererCheck(net: NetworkDescriptor, timeoutMs: number): () => Promise<string> {
  return async () => {
    const o = net.orderer;
    if (!o?.nodes?.length) return 'not checked: network.json lists no orderers (the devnet embeds ordering in its ledger process)';
    const tlsRoot = fs.readFileSync(o.tlsRootCertPath);
    const up = await Promise.all(
      o.nodes.map(
        (n) =>
          new Promise<boolean>((resolve) => {
            const c = new grpc.Client(n.endpoint, grpc.credentials.createSsl(tlsRoot), { 'grpc.ssl_target_name_override': n.hostAlias, 'grpc.default_authority': n.hostAlias });
            c.waitForReady(Date.now() + timeoutMs, (err) => {
              c.close();
              resolve(!err);
            });
          }),
      ),
    );
    const n = o.nodes.length;
    const needed = (o.consensus ?? '').toUpperCase() === 'BFT' ? n - Math.floor((n - 1) / 3) : Math.floor(n / 2) + 1;
    const reachable = up.filter(Boolean).length;
    const down = o.nodes.filter((_, i) => !up[i]).map((x) => x.name);
    const detail = `${reachable}/${n} orderers reachable (${o.consensus ?? 'consensus'} needs ${needed})${down.length ? `; down: ${down.join(', ')}` : ''}`;
    if (reachable < needed) throw new Error(detail);
    return detail;
  };
}
