'use strict';
const { randomBytes } = require('node:crypto');
const { Contract } = require('fabric-contract-api');

/** Private data collection defined for chaincode `conformance` in test-network-config/network.yaml. */
const COLLECTION = 'utility1Only';
/** Event name set by emit(); the suite filters on it. */
const EVENT_NAME = 'conformance.emitted';

function implicitCollection(mspId) {
  return `_implicit_org_${mspId}`;
}

function text(bytes) {
  return Buffer.from(bytes || []).toString('utf8');
}

/** Collects the keys of a state iterator (and closes it) — used for range and paginated queries. */
async function keysOf(iterator) {
  const keys = [];
  try {
    for (let r = await iterator.next(); !r.done; r = await iterator.next()) {
      keys.push(r.value.key);
    }
  } finally {
    await iterator.close();
  }
  return keys;
}

class ConformanceContract extends Contract {
  constructor() {
    super('conformance');
  }

  /** Public write; returns the value written (so the suite can check submit's result). */
  async put(ctx, key, value) {
    await ctx.stub.putState(key, Buffer.from(value, 'utf8'));
    return value;
  }

  /** Public read; '' when absent (the shim returns empty bytes for a missing key). */
  async get(ctx, key) {
    return text(await ctx.stub.getState(key));
  }

  async del(ctx, key) {
    await ctx.stub.deleteState(key);
    return '';
  }

  /** Reads a decimal counter and writes it + 1: two concurrent calls on one key conflict (MVCC). */
  async readModifyWrite(ctx, key) {
    const current = text(await ctx.stub.getState(key));
    const next = (current === '' ? 0 : Number.parseInt(current, 10)) + 1;
    await ctx.stub.putState(key, Buffer.from(String(next), 'utf8'));
    return String(next);
  }

  /** Read-only range query [start, end): JSON array of keys. */
  async rangeKeys(ctx, start, end) {
    return JSON.stringify(await keysOf(await ctx.stub.getStateByRange(start, end)));
  }

  /**
   * Range query [start, end) then a write of the key count to outKey: a key inserted into the
   * range by a transaction ordered before this one makes it a phantom read (code 12).
   */
  async rangeAndWrite(ctx, start, end, outKey) {
    const keys = await keysOf(await ctx.stub.getStateByRange(start, end));
    await ctx.stub.putState(outKey, Buffer.from(String(keys.length), 'utf8'));
    return JSON.stringify(keys);
  }

  /** Paginated range (read-only on Fabric): {keys, bookmark, fetchedRecordsCount}. */
  async rangePage(ctx, start, end, pageSize, bookmark) {
    const { iterator, metadata } = await ctx.stub.getStateByRangeWithPagination(
      start, end, Number.parseInt(pageSize, 10), bookmark || '');
    const keys = await keysOf(iterator);
    return JSON.stringify({ keys, bookmark: metadata.bookmark, fetchedRecordsCount: metadata.fetchedRecordsCount });
  }

  /** History of a key, newest first as Fabric returns it: [{txId, value, isDelete}]. */
  async history(ctx, key) {
    const iterator = await ctx.stub.getHistoryForKey(key);
    const out = [];
    try {
      for (let r = await iterator.next(); !r.done; r = await iterator.next()) {
        out.push({ txId: r.value.txId, value: text(r.value.value), isDelete: Boolean(r.value.isDelete) });
      }
    } finally {
      await iterator.close();
    }
    return JSON.stringify(out);
  }

  /** Private write to utility1Only; the value travels in the transient map (key `value`), never in the tx. */
  async privatePut(ctx, key) {
    const value = ctx.stub.getTransient().get('value');
    if (!value || value.length === 0) {
      throw new Error('transient field "value" is required');
    }
    await ctx.stub.putPrivateData(COLLECTION, key, Buffer.from(value));
    return '';
  }

  async privateGet(ctx, key) {
    return text(await ctx.stub.getPrivateData(COLLECTION, key));
  }

  /** Hex SHA-256 of the private value as every peer of the channel holds it ('' if absent). */
  async privateHash(ctx, key) {
    return Buffer.from(await ctx.stub.getPrivateDataHash(COLLECTION, key)).toString('hex');
  }

  /**
   * Private write to the implicit collection Fabric defines for org `mspId` (`_implicit_org_<mspId>`,
   * F core/chaincode/lifecycle GenerateImplicitCollectionForOrg); the value travels in the transient map.
   */
  async implicitPut(ctx, mspId, key) {
    const value = ctx.stub.getTransient().get('value');
    if (!value || value.length === 0) {
      throw new Error('transient field "value" is required');
    }
    await ctx.stub.putPrivateData(implicitCollection(mspId), key, Buffer.from(value));
    return '';
  }

  async implicitGet(ctx, mspId, key) {
    return text(await ctx.stub.getPrivateData(implicitCollection(mspId), key));
  }

  /** Hex SHA-256 of the value in org `mspId`'s implicit collection, as every peer holds it ('' if absent). */
  async implicitHash(ctx, mspId, key) {
    return Buffer.from(await ctx.stub.getPrivateDataHash(implicitCollection(mspId), key)).toString('hex');
  }

  /** Writes key=value and emits one chaincode event whose payload is the value. */
  async emit(ctx, key, value) {
    await ctx.stub.putState(key, Buffer.from(value, 'utf8'));
    ctx.stub.setEvent(EVENT_NAME, Buffer.from(value, 'utf8'));
    return value;
  }

  /** Deliberately failing: the contract API turns the throw into a status-500 response with this message. */
  async fail(ctx, message) {
    throw new Error(message);
  }

  /** Deliberately faulty: each endorser writes a different random value, so endorsements cannot match. */
  async nondeterministic(ctx, key) {
    const value = randomBytes(16).toString('hex');
    await ctx.stub.putState(key, Buffer.from(value, 'utf8'));
    return value;
  }

  /**
   * The MSP id of the org whose peer runs this chaincode: the server's CORE_PEER_LOCALMSPID. Each org
   * runs its own server, so it names the endorsing org (and two orgs' results differ).
   */
  async peerMspId(ctx) {
    return ctx.stub.getMspID();
  }

  /** The caller as the chaincode sees it: MSP id and the certificate attribute `role`. */
  async whoAmI(ctx) {
    const cid = ctx.clientIdentity;
    return JSON.stringify({ mspId: cid.getMSPID(), role: cid.getAttributeValue('role'), id: cid.getID() });
  }
}

module.exports = { ConformanceContract, COLLECTION, EVENT_NAME };
