/**
 * Wiring of the whole devnet in one process: per utility org a Fabric CA, an endorsing/committing
 * peer with the gateway service (TLS) and an operations endpoint, one chaincode connection per
 * (org, chaincode); one ordering service and one ledger store shared by all peers (they are
 * always in sync in one process). Restart on the same home reuses everything: org material,
 * CA registries, ledger (blocks, state, tx index) and channel MSP CRLs.
 */
import { createPrivateKey } from 'node:crypto';
import { mkdirSync, writeFileSync, renameSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import { common } from '@hyperledger/fabric-protos';
import { startCaServer, RunningCaServer } from './ca/fabricCaServer';
import { ChaincodeRuntime } from './chaincode';
import { chaincodeDefinitionVersion, DEFAULT_CHAINCODE_VERSION } from './config/chaincodeVersion';
import { loadNetworkConfig, type ChaincodeConfig, type NetworkConfig, type NetworkJson } from '@gridledger/protocol';
import { DeliverService } from './gateway/deliverService';
import { GatewayService, GatewayPeer, startGatewayServer } from './gateway/gatewayService';
import { DiscoveryService, type DiscoveryMsp, type DiscoveryPeer } from './gateway/discoveryService';
import { startOrdererServer } from './orderer/ordererServer';
import { signLowS } from './identity/crypto';
import { MspRegistry, serializeIdentity } from './identity/msp';
import { ensureOrgMaterial, OrgMaterial } from './identity/orgMaterial';
import { LedgerStore, TxStatus } from './ledger';
import { CommitNotifier } from './peer/commitNotifier';
import { CrlStore } from './ops/crlStore';
import { createLogger, Logger } from './ops/logger';
import { PeerMetrics } from './ops/metrics';
import { CrlUpdateError, startOpsServer } from './ops/opsServer';
import { blockHeaderHash } from './orderer/block';
import { genesisBlock } from './orderer/genesis';
import { Orderer } from './orderer/orderer';
import { Committer } from './peer/committer';
import type { PeerSigner } from './peer/deps';
import { Endorser } from './peer/endorser';
import { VALIDATION_PARAMETER } from './peer/keyLevelPolicy';
import { TransientStore } from './peer/transientStore';
import { withCachedKeys } from './peer/verifierCache';
import { ChannelPolicies } from './policy';
import { present } from './present';

export interface DevnetStartOptions {
  configFile: string;
  home: string;
  portBase?: number;
  logger?: Logger;
  /** argv of this CLI (for network.json's control commands); omitted ⇒ no control argv */
  cliArgv?: { node: string; execArgv?: string[]; script: string };
}

/** Shutdown phases, in order: stop serving, finish the current block, drop connections, close the ledger. */
type Phase = 'serving' | 'ordering' | 'connections' | 'ledger';
interface Closable {
  name: string;
  phase: Phase;
  close(): Promise<void> | void;
}
const PHASES: Phase[] = ['serving', 'ordering', 'connections', 'ledger'];

export class Devnet {
  private readonly closables: Closable[] = [];
  private stopping: Promise<void> | undefined;

  private constructor(
    readonly config: NetworkConfig,
    readonly home: string,
    readonly ledger: LedgerStore,
    readonly msp: MspRegistry,
    readonly material: Map<string, OrgMaterial>,
    private readonly log: Logger,
    private readonly orderer: Orderer,
    private readonly gateways: GatewayService[],
    private readonly cliArgv: DevnetStartOptions['cliArgv'],
    private readonly configFileAbs: string,
  ) {}

  static async start(opts: DevnetStartOptions): Promise<Devnet> {
    const log = opts.logger ?? createLogger();
    const config = loadNetworkConfig(opts.configFile, opts.portBase);
    mkdirSync(opts.home, { recursive: true });
    const material = await ensureOrgMaterial(config, opts.home);
    const channel = config.channel;
    const crlStore = new CrlStore(opts.home, channel);
    const savedCrls = crlStore.load();
    const allOrgs = [...config.organizations.map((o) => ({ name: o.name, mspId: o.mspId })), { name: config.orderer.name, mspId: config.orderer.mspId }];
    const registry = new MspRegistry(
      allOrgs.map((o) => ({ mspId: o.mspId, rootCertsPem: [material.get(o.name)!.caCertPem], crlsPem: savedCrls.get(o.mspId) ?? [] })),
    );
    // Peers, orderer and gateway verify through cached public keys; the registry validates identities.
    const msp = withCachedKeys(registry);
    const orgMspIds = config.organizations.map((o) => o.mspId);
    const policies = new ChannelPolicies({ orgMspIds, msp: registry });
    const chaincodes = new Map<string, ChaincodeConfig>(config.chaincodes.map((c) => [c.name, c]));
    // the version of each committed definition, as the Fabric tier commits it (config/chaincodeVersion.ts)
    const versions = new Map(config.chaincodes.map((c) => [c.name, chaincodeDefinitionVersion(c.name)]));
    const chaincodeVersion = (name: string) => versions.get(name) ?? DEFAULT_CHAINCODE_VERSION;
    const ledger = await LedgerStore.open(join(opts.home, 'ledger'));
    const transient = new TransientStore();
    const metrics = new Map(config.organizations.map((o, i) => [o.name, new PeerMetrics(o.name, channel, i === 0)]));

    const notifier = new CommitNotifier<TxStatus>((txId) => ledger.getTxStatus(txId));
    const committer = new Committer({
      channel, ledger, msp, policies, chaincodes, orgs: config.organizations, transient,
      onCommitted: ({ blockNum, codes, txIds, durationMs }) => {
        notifier.committed(blockNum, txIds);
        for (const m of metrics.values()) m.blockCommitted(codes, durationMs);
        log.info({ blockNum, txs: codes.length, invalid: codes.filter((c) => c !== 0).length, durationMs }, 'block committed');
      },
      log: (msg, fields) => log.info(fields ?? {}, msg),
    });

    // Block 0 = channel config, as on Fabric; later restarts continue the chain.
    const ordererMat = material.get(config.orderer.name)!;
    // Keys parsed once: signLowS with a PEM string re-parses the key on every signature.
    const ordererKey = createPrivateKey(ordererMat.orderer!.identity.keyPem);
    const ordererSigner = {
      serialized: serializeIdentity(config.orderer.mspId, ordererMat.orderer!.identity.certPem),
      sign: (m: Uint8Array) => signLowS(ordererKey, m),
    };
    if (ledger.height() === 0) await committer.commitBlock(genesisBlock(channel, ordererSigner.serialized, ordererSigner.sign));
    const lastBlock = common.Block.deserializeBinary((await ledger.getBlock(ledger.height() - 1))!);
    const orderer = new Orderer({
      channel, msp,
      maxMessageCount: config.orderer.batch.maxMessageCount,
      timeoutMs: config.orderer.batch.timeoutMs,
      nextBlockNumber: ledger.height(),
      previousHash: blockHeaderHash(lastBlock.getHeader()!),
      signer: ordererSigner,
      certs: msp.certs,
      deliver: async (block) => {
        await committer.commitBlock(block);
      },
      onError: (err) => log.error({ err }, 'block commit failed'),
    });

    // Per org: endorser (own chaincode connections, own signing key) and gateway peer record.
    const runtimes: ChaincodeRuntime[] = [];
    const discoveryPeers: DiscoveryPeer[] = [];
    const peers: GatewayPeer[] = config.organizations.map((o) => {
      const mat = material.get(o.name)!;
      const serialized = serializeIdentity(o.mspId, mat.peer!.identity.certPem);
      const key = createPrivateKey(mat.peer!.identity.keyPem);
      // The peer's own endorsement signatures are remembered as verified, so committing them costs no
      // second ECDSA (verifierCache.ts remember) — once a probe signature shows key and certificate match.
      const peerId = msp.deserialize(serialized);
      const probe = Buffer.from(`gridledger devnet signer probe ${o.mspId}`);
      const selfVerified = msp.verify(peerId, probe, signLowS(key, probe));
      const signer: PeerSigner = {
        mspId: o.mspId, serialized,
        sign: (m) => {
          const sig = signLowS(key, m);
          if (selfVerified) msp.verified.remember(peerId.id, m, sig);
          return sig;
        },
      };
      const orgRuntimes = new Map<string, ChaincodeRuntime>();
      for (const cc of config.chaincodes) {
        const rt = new ChaincodeRuntime({
          // each org's peer dials its own chaincode server (network.yaml addressPortOffsets), or the shared one
          name: cc.name, address: cc.addresses[o.name]!, org: o.name, ledger, collections: cc.collections,
          isCollectionMember: (creator, coll) => policies.isMember(coll.policy, creator as never),
          logger: log.child({ org: o.name, chaincode: cc.name }),
        });
        orgRuntimes.set(cc.name, rt);
        runtimes.push(rt);
      }
      const m = metrics.get(o.name)!;
      const endorser = new Endorser({
        org: o.name, mspId: o.mspId, channel, msp, signer, chaincodes,
        runtime: (name) => orgRuntimes.get(name),
        txIdCommitted: async (txId) => (await ledger.getTxStatus(txId)) !== undefined,
        validationParameter: async (ns, key) => (await ledger.getState(ns, key))?.metadata?.[VALIDATION_PARAMETER],
        transient, chaincodeVersion,
        onEndorsed: (ms, ok) => m.proposalProcessed(ms, ok),
      });
      discoveryPeers.push({ mspId: o.mspId, endpoint: `${o.host}:${o.peerPort}`, serialized, identity: msp.deserialize(serialized), sign: (message) => signer.sign(message) });
      return { endorser, mspId: o.mspId, address: `peer0.${o.domain}:${o.peerPort}`, identity: msp.deserialize(serialized) };
    });

    const gateways = peers.map(
      (local) =>
        new GatewayService({
          channel, local, peers, chaincodes, policies, msp, ledger, notifier,
          orderer: { broadcast: (env) => orderer.broadcast(env) },
        }),
    );
    const delivers = config.organizations.map(() => new DeliverService({ channel, msp, ledger, notifier }));
    const ordererDeliver = new DeliverService({ channel, msp, ledger, notifier });
    const discoveryMsps: DiscoveryMsp[] = allOrgs.map((o) => {
      const mat = material.get(o.name)!;
      return { mspId: o.mspId, rootCertsPem: [mat.caCertPem], tlsRootCertsPem: [mat.tlsCaCertPem] };
    });
    const discoveries = discoveryPeers.map(
      (local) =>
        new DiscoveryService({
          channel, msp, policies, ledger, chaincodes, peers: discoveryPeers, local, msps: discoveryMsps,
          orderers: [{ mspId: config.orderer.mspId, host: config.orderer.host, port: config.orderer.port }],
          chaincodeVersion,
        }),
    );
    const devnet = new Devnet(config, opts.home, ledger, registry, material, log, orderer, gateways, opts.cliArgv, resolve(opts.configFile));
    // Waiting CommitStatus calls and event streams end first, so the gRPC servers can drain.
    devnet.closables.push({
      name: 'gateway waiters', phase: 'serving',
      close: () => {
        gateways.forEach((g) => g.close());
        delivers.forEach((d) => d.close());
        ordererDeliver.close();
      },
    });
    devnet.closables.push({ name: 'orderer', phase: 'ordering', close: () => orderer.stop() });
    devnet.closables.push({ name: 'chaincode connections', phase: 'connections', close: () => runtimes.forEach((r) => r.close()) });
    devnet.closables.push({
      name: 'ledger', phase: 'ledger',
      close: async () => {
        devnet.ledgerClosed = true;
        await ledger.close();
      },
    });
    try {
      for (const [i, o] of config.organizations.entries()) {
        const mat = material.get(o.name)!;
        const { server } = await startGatewayServer({
          host: o.host, port: o.peerPort, tlsCertPem: mat.peer!.tls.certPem, tlsKeyPem: mat.peer!.tls.keyPem,
          service: present(gateways[i], 'gateway of org i'), deliver: present(delivers[i], 'deliver service of org i'), endorser: present(peers[i], 'peer of org i').endorser, discovery: present(discoveries[i], 'discovery service of org i'),
        });
        devnet.closables.push({ name: `${o.name} gateway`, phase: 'serving', close: () => shutdownGrpc(server) });
        const ca = await startCaServer({ org: mat, caName: mat.caName, port: o.caPort, host: o.host, home: opts.home, logger: log.child({ org: o.name, component: 'ca' }) });
        devnet.closables.push({ name: `${o.name} CA`, phase: 'serving', close: () => ca.close() });
        const ops = await startOpsServer({
          host: o.host, port: o.opsPort, metrics: metrics.get(o.name)!, logger: log.child({ org: o.name, component: 'operations' }),
          checks: [{ component: 'ledger', check: () => (devnet.ledgerOpen() ? undefined : 'ledger is not open') }],
          applyCrls: (ch, mspId, crls) => devnet.applyCrls(crlStore, ch, mspId, crls),
        });
        devnet.closables.push({ name: `${o.name} operations`, phase: 'connections', close: () => ops.close() });
      }
      const ordererCa: RunningCaServer = await startCaServer({
        org: ordererMat, caName: ordererMat.caName, port: config.orderer.caPort, host: config.orderer.host, home: opts.home, logger: log.child({ org: config.orderer.name, component: 'ca' }),
      });
      devnet.closables.push({ name: 'orderer CA', phase: 'serving', close: () => ordererCa.close() });
      const ordererServer = await startOrdererServer({
        host: config.orderer.host, port: config.orderer.port, tlsCertPem: ordererMat.orderer!.tls.certPem, tlsKeyPem: ordererMat.orderer!.tls.keyPem,
        orderer: { broadcast: (env) => orderer.broadcast(env) }, deliver: ordererDeliver,
      });
      devnet.closables.push({ name: 'orderer endpoint', phase: 'serving', close: () => shutdownGrpc(ordererServer.server) });
    } catch (err) {
      await devnet.stop();
      throw err;
    }
    log.info({ height: ledger.height() }, 'devnet started');
    return devnet;
  }

  private ledgerClosed = false;
  ledgerOpen(): boolean {
    return !this.ledgerClosed;
  }

  private applyCrls(store: CrlStore, channel: string, mspId: string, crls: string[]): void {
    if (channel !== this.config.channel) throw new CrlUpdateError(404, `channel ${channel} not found`);
    if (!this.msp.has(mspId)) throw new CrlUpdateError(404, `MSP ${mspId} is not a member of channel ${channel}`);
    this.msp.setCrls(mspId, crls); // validates (throws MspError for an unparsable CRL) before we persist
    store.save(mspId, crls);
  }

  /** Every endpoint, for the "ready" log line. */
  endpoints(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const o of this.config.organizations) {
      out[`${o.name}.peer`] = `${o.host}:${o.peerPort}`;
      out[`${o.name}.ca`] = `https://${o.host}:${o.caPort}`;
      out[`${o.name}.operations`] = `http://${o.host}:${o.opsPort}`;
    }
    out['orderer.ca'] = `https://${this.config.orderer.host}:${this.config.orderer.caPort}`;
    out['orderer'] = `${this.config.orderer.host}:${this.config.orderer.port}`;
    for (const c of this.config.chaincodes) {
      for (const o of this.config.organizations) out[`chaincode.${c.name}.${o.name}`] = c.addresses[o.name]!;
    }
    return out;
  }

  networkJson(pidFile: string): NetworkJson {
    const cli = this.cliArgv;
    // the devnet process serves every org's CA too
    const control: NetworkJson['control'] = { ledgerPidFiles: [pidFile], caPidFiles: Object.fromEntries(this.config.organizations.map((o) => [o.name, pidFile])) };
    if (cli) {
      const node = [cli.node, ...(cli.execArgv ?? []), cli.script];
      control.restartLedger = [...node, 'restart', '--config', this.configFileAbs, '--home', this.home, '--port-base', String(this.config.portBase)];
      control.applyCrl = [...node, 'apply-crl', '--home', this.home];
    }
    return {
      tier: 'devnet',
      channel: this.config.channel,
      home: this.home,
      organizations: this.config.organizations.map((o) => {
        const mat = this.material.get(o.name)!;
        return {
          name: o.name,
          mspId: o.mspId,
          peer: { endpoint: `${o.host}:${o.peerPort}`, hostAlias: `peer0.${o.domain}`, tlsRootCertPath: mat.tlsCaCertPath },
          ca: {
            url: `https://${o.host}:${o.caPort}`, caName: mat.caName, tlsRootCertPath: mat.tlsCaCertPath,
            registrar: { enrollmentId: 'admin', enrollmentSecret: 'adminpw' },
          },
          users: mat.userPaths,
          operations: `http://${o.host}:${o.opsPort}`,
        };
      }),
      chaincodes: this.config.chaincodes.map((c) => ({ name: c.name, addresses: { ...c.addresses } })),
      orderer: {
        batch: { ...this.config.orderer.batch },
        // as network/fabric/lib/fabric.js writes it; one node, ordering in the devnet process
        consensus: 'solo',
        mspId: this.config.orderer.mspId,
        tlsRootCertPath: this.material.get(this.config.orderer.name)!.tlsCaCertPath,
        nodes: [{ name: this.config.orderer.name, endpoint: `${this.config.orderer.host}:${this.config.orderer.port}`, hostAlias: `orderer.${this.config.orderer.domain}` }],
      },
      control,
    };
  }

  /** Writes <home>/network.json atomically (readers poll for it as the readiness signal). */
  writeNetworkJson(pidFile: string): string {
    const path = join(this.home, 'network.json');
    writeFileSync(`${path}.tmp`, `${JSON.stringify(this.networkJson(pidFile), null, 2)}\n`);
    renameSync(`${path}.tmp`, path);
    return path;
  }

  /** Graceful stop: stop accepting, finish the current block, close the ledger. Idempotent. */
  stop(): Promise<void> {
    if (!this.stopping) {
      this.stopping = (async () => {
        for (const phase of PHASES) {
          await Promise.all(
            this.closables
              .filter((c) => c.phase === phase)
              .map(async (c) => {
                try {
                  await c.close();
                } catch (err) {
                  this.log.warn({ err, component: c.name }, 'error while stopping');
                }
              }),
          );
        }
        this.log.info({}, 'devnet stopped');
      })();
    }
    return this.stopping;
  }

  /** For tests and the CLI: the gateway services (e.g. to end streams). */
  get gatewayServices(): readonly GatewayService[] {
    return this.gateways;
  }

  get ordering(): Orderer {
    return this.orderer;
  }
}

function shutdownGrpc(server: grpc.Server): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, 2000);
    server.tryShutdown(() => {
      clearTimeout(t);
      resolve();
    });
  });
}
