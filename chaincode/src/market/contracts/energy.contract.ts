import { Info, Returns, Transaction } from 'fabric-contract-api';
import { GridLedgerContract } from '../../kernel/contract';
import { EnergyPacket, checkMintBound, packetIdFor, parseMint } from '../domain/energy';
import { EVENTS } from '@gridledger/protocol';
import { emit } from '../../kernel/events';
import { getCaller, requireMeter } from '../../kernel/caller';
import { canonicalJson } from '../../kernel/codec';
import { ensureAccount } from '../ledger/directory';
import { MintedCounter, energyBalance, getPacket, mintedKey, putPacket } from '../ledger/energy';
import { MKT } from '../ledger/keys';
import { transientProof, verifiedProof } from '../ledger/readings';
import { fail } from '../../kernel/errors';
import { ID_PATTERN, jsonObjectArg } from '../../kernel/args';
import { pageByPartialKey, pageSizeArg } from '../../kernel/paging';
import { GridLedgerContext } from '../../kernel/context';
import { openMarketTx } from '../services/session';

/**
 * Energy packets (issue 3 §2). Minted by the meter itself from its own measured surplus export;
 * transferred only by trade settlement (there is deliberately no transfer function).
 */
@Info({ title: 'energy', description: 'Energy packets minted from metered surplus' })
export class EnergyContract extends GridLedgerContract {
  constructor() {
    super('energy');
  }

  /**
   * `mintJson` = {intervalStart, amountWh, source}; transient `exportProof` = the meter's export
   * proof for that interval (meters:getProof, checked against the hash on the channel; its `wh`
   * bounds the mint). Other endorsers learn that interval's export and nothing else of the reading.
   */
  @Transaction()
  @Returns('string')
  async mint(ctx: GridLedgerContext, mintJson: string): Promise<string> {
    const m = requireMeter(ctx, 'energy:mint');
    const input = parseMint(jsonObjectArg(mintJson, 'mintJson'));
    await openMarketTx(ctx);
    const proof = transientProof(ctx, 'exportProof');
    if (!proof) fail('INVALID_ARGUMENT', 'MISSING_PROOF', 'energy:mint needs the interval\'s export proof (meters:getProof) as transient "exportProof" (it stays off the block)');
    if (proof.direction !== 'export') fail('INVALID_ARGUMENT', 'WRONG_PROOF', 'transient exportProof must be an export proof');
    if (proof.meterId !== m.meterId) fail('FORBIDDEN', 'OTHER_METER', `meter ${m.meterId} may only mint from its own readings`);
    if (proof.intervalStart !== input.intervalStart) fail('INVALID_ARGUMENT', 'WRONG_PROOF', 'transient exportProof is for a different interval than mintJson.intervalStart');
    await verifiedProof(ctx, m.mspId, proof, 'energy:mint');
    const reading = { intervalStart: proof.intervalStart, intervalLength: proof.intervalLength, exportWh: proof.wh };
    await ensureAccount(ctx, m);
    const ckey = mintedKey(ctx, m.mspId, m.meterId, input.intervalStart);
    const counter = (await ctx.state.get<MintedCounter>(ckey)) ?? { mintedWh: 0 };
    checkMintBound(counter.mintedWh, input.amountWh, reading.exportWh, 'energy:mint');
    await ctx.state.put(ckey, { mintedWh: counter.mintedWh + input.amountWh });
    const packet: EnergyPacket = {
      packetId: packetIdFor(ctx.nextLocalId()),
      owner: m.participantId,
      mspId: m.mspId,
      meterId: m.meterId,
      source: input.source,
      intervalStart: reading.intervalStart,
      intervalLength: reading.intervalLength,
      amountWh: input.amountWh,
      availableWh: input.amountWh,
      escrowedWh: 0,
      soldWh: 0,
      claimedWh: 0,
      origin: 'mint',
      createdAt: ctx.now,
    };
    await putPacket(ctx, packet, true);
    emit(ctx, EVENTS.energyMinted, { packetId: packet.packetId, owner: packet.owner, amountWh: packet.amountWh, intervalStart: packet.intervalStart, source: packet.source });
    return canonicalJson(packet);
  }

  /** Any caller: packets are public (pseudonymous owner, amount, source, interval). */
  @Transaction(false)
  @Returns('string')
  async get(ctx: GridLedgerContext, packetId: string): Promise<string> {
    getCaller(ctx);
    if (!ID_PATTERN.test(packetId)) fail('INVALID_ARGUMENT', 'BAD_ID', 'packetId is not a valid id');
    await openMarketTx(ctx);
    return canonicalJson(await getPacket(ctx, packetId));
  }

  /** A participant's packets, paginated (index by owner: never a scan of all packets). */
  @Transaction(false)
  @Returns('string')
  async listByOwner(ctx: GridLedgerContext, participantId: string, pageSize: string, bookmark: string): Promise<string> {
    getCaller(ctx);
    if (!ID_PATTERN.test(participantId)) fail('INVALID_ARGUMENT', 'BAD_ID', 'participantId is not a valid participant id');
    await openMarketTx(ctx);
    const page = await pageByPartialKey<{ packetId: string }>(ctx, MKT.packetByOwner, [participantId], pageSizeArg(pageSize), bookmark ?? '');
    const items: EnergyPacket[] = [];
    for (const i of page.items) items.push(await getPacket(ctx, i.value.packetId));
    return canonicalJson({ items, bookmark: page.bookmark });
  }

  /**
   * Energy balance: available, escrowed and sold Wh over the owner's minted packets, claimed Wh over
   * bought ones — from the owner's running balance shards (a constant number of reads).
   */
  @Transaction(false)
  @Returns('string')
  async balance(ctx: GridLedgerContext, participantId: string): Promise<string> {
    getCaller(ctx);
    if (!ID_PATTERN.test(participantId)) fail('INVALID_ARGUMENT', 'BAD_ID', 'participantId is not a valid participant id');
    await openMarketTx(ctx);
    const sum = await energyBalance(ctx, participantId);
    return canonicalJson({ participantId, ...sum });
  }
}
