import { common } from '@hyperledger/fabric-protos';
import { createSelfSignedCa } from '../../src/identity/certificates';
import { generateEcKeyPair } from '../../src/identity/crypto';
import { blockHeaderHash } from '../../src/orderer/block';
import { Orderer } from '../../src/orderer/orderer';
import { endorsedEnvelope, FakeMsp } from '../peer/txBuilder';
import { nth } from '../lists';

const fake = new FakeMsp();
const client = fake.create('Org1MSP', 'client1', 'client');
const peerId = fake.create('Org1MSP', 'peer1', 'peer');

function collect(maxMessageCount: number, timeoutMs = 60_000, now?: () => number) {
  const blocks: common.Block[] = [];
  let notify: (() => void) | undefined;
  const orderer = new Orderer({
    channel: 'energy', msp: fake, maxMessageCount, timeoutMs, nextBlockNumber: 5, previousHash: Buffer.alloc(32, 7),
    now,
    deliver: async (b) => {
      blocks.push(b);
      notify?.();
    },
  });
  const nextBlock = () => new Promise<void>((r) => (notify = r));
  return { orderer, blocks, nextBlock };
}

describe('Orderer', () => {
  it('cuts by message count, numbers blocks and chains header hashes', async () => {
    const { orderer, blocks } = collect(2);
    for (let i = 0; i < 4; i++) expect(orderer.broadcast(endorsedEnvelope(client).envelope).status).toBe(common.Status.SUCCESS);
    await orderer.stop();
    expect(blocks.map((b) => b.getHeader()!.getNumber())).toEqual([5, 6]);
    expect(Buffer.from(nth(blocks, 0).getHeader()!.getPreviousHash_asU8()).equals(Buffer.alloc(32, 7))).toBe(true);
    expect(Buffer.from(nth(blocks, 1).getHeader()!.getPreviousHash_asU8()).equals(blockHeaderHash(nth(blocks, 0).getHeader()!))).toBe(true);
    expect(nth(blocks, 0).getData()!.getDataList().length).toBe(2);
  });

  it('cuts a partial batch when the batch timeout fires', async () => {
    const { orderer, blocks, nextBlock } = collect(10, 5);
    const arrived = nextBlock();
    orderer.broadcast(endorsedEnvelope(client).envelope);
    await arrived;
    expect(blocks.length).toBe(1);
    expect(nth(blocks, 0).getData()!.getDataList().length).toBe(1);
    await orderer.stop();
  });

  it('stop() finishes the current block', async () => {
    const { orderer, blocks } = collect(10);
    orderer.broadcast(endorsedEnvelope(client).envelope);
    await orderer.stop();
    expect(blocks.length).toBe(1);
    expect(orderer.broadcast(endorsedEnvelope(client).envelope).status).toBe(common.Status.SERVICE_UNAVAILABLE);
  });

  it('FORBIDDEN for a bad signature, a revoked creator or a non-Writer; accepts a resubmission', async () => {
    const { orderer } = collect(100);
    const other = fake.create('Org1MSP', 'client9', 'client');
    const forged = endorsedEnvelope(client, { envelopeSigner: other }).envelope;
    const r = orderer.broadcast(forged);
    expect(r.status).toBe(common.Status.FORBIDDEN);
    expect(r.info).toMatch(/permission denied$/);
    expect(orderer.broadcast(endorsedEnvelope(peerId).envelope).status).toBe(common.Status.FORBIDDEN);
    const revokedEnv = endorsedEnvelope(other).envelope;
    fake.revoked.add('client9');
    expect(orderer.broadcast(revokedEnv).status).toBe(common.Status.FORBIDDEN);
    const env = endorsedEnvelope(client).envelope;
    expect(orderer.broadcast(env).status).toBe(common.Status.SUCCESS);
    expect(orderer.broadcast(env).status).toBe(common.Status.SUCCESS);
    expect(orderer.broadcast(Buffer.from([1, 2, 3])).status).toBe(common.Status.BAD_REQUEST);
    await orderer.stop();
  });

  it('BAD_REQUEST "broadcast client identity expired" once the creator certificate is past NotAfter', async () => {
    const withCert = fake.create('Org1MSP', 'client-expiring', 'client');
    withCert.certPem = await createSelfSignedCa({ subject: { commonName: 'c' }, keyPem: generateEcKeyPair().privateKeyPem, validityHours: 1 });
    const later = collect(100, 60_000, () => Date.now() + 2 * 3600_000);
    const r = later.orderer.broadcast(endorsedEnvelope(withCert).envelope);
    expect(r).toEqual({ status: common.Status.BAD_REQUEST, info: 'broadcast client identity expired' });
    const today = collect(100);
    expect(today.orderer.broadcast(endorsedEnvelope(withCert).envelope).status).toBe(common.Status.SUCCESS);
    await later.orderer.stop();
    await today.orderer.stop();
  });
});
