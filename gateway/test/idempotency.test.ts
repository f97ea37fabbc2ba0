import { IdempotencyStore, canonicalJson, requestFingerprint } from '../src/store/idempotency';
import { openDatabase } from '../src/store/db';
import { tmpDir } from './helpers/tmp';

describe('IdempotencyStore', () => {
  it('claims, replays, refuses a different request, and is scoped per principal', () => {
    const db = openDatabase(tmpDir());
    const s = new IdempotencyStore(db);
    const f1 = requestFingerprint('POST', '/a', { x: 1, y: [1, 2] });
    expect(requestFingerprint('post', '/a', { y: [1, 2], x: 1 })).toBe(f1); // key order does not matter
    expect(s.begin('k1', 'key', f1)).toEqual({ kind: 'new' });
    expect(s.begin('k1', 'key', f1)).toEqual({ kind: 'in-progress', txId: null, fromEarlierRun: false });
    s.notePrepared('k1', 'key', 'tx5', Buffer.from('bytes'), 'operator');
    expect(s.begin('k1', 'key', f1)).toMatchObject({ kind: 'in-progress', txId: 'tx5' });
    s.complete('k1', 'key', { status: 201, headers: { Location: '/x' }, body: { ok: 1 } });
    expect(s.begin('k1', 'key', f1)).toEqual({ kind: 'replay', response: { status: 201, headers: { Location: '/x' }, body: { ok: 1 } } });
    expect(s.begin('k1', 'key', requestFingerprint('POST', '/a', { x: 2 }))).toEqual({ kind: 'mismatch' });
    expect(s.begin('k2', 'key', f1)).toEqual({ kind: 'new' }); // another client's key space
    db.close();
  });

  it('survives a restart: completed responses replay, interrupted ones are reported as such', () => {
    const dir = tmpDir();
    const db1 = openDatabase(dir);
    const s1 = new IdempotencyStore(db1);
    s1.begin('k', 'done', 'f');
    s1.complete('k', 'done', { status: 202, headers: {}, body: { receiptId: 'r' } });
    s1.begin('k', 'cut', 'g');
    s1.notePrepared('k', 'cut', 'tx1', Buffer.from('signed tx'), 'meter:m-1');
    s1.begin('k', 'early', 'h'); // cut before anything was endorsed
    db1.close();
    const s2 = new IdempotencyStore(openDatabase(dir));
    expect(s2.begin('k', 'done', 'f')).toMatchObject({ kind: 'replay', response: { status: 202 } });
    expect(s2.begin('k', 'cut', 'g')).toEqual({ kind: 'resume', txId: 'tx1', txBytes: Buffer.from('signed tx'), actingKey: 'meter:m-1' });
    // taken over by this run: a concurrent duplicate now waits
    expect(s2.begin('k', 'cut', 'g')).toMatchObject({ kind: 'in-progress', fromEarlierRun: false });
    expect(s2.begin('k', 'early', 'h')).toEqual({ kind: 'new' });
  });

  it('a claim that queued a receipt (sync reading) survives release and a restart, and resumes from that receipt', () => {
    const dir = tmpDir();
    const db1 = openDatabase(dir);
    const s1 = new IdempotencyStore(db1);
    expect(s1.begin('k', 'sync', 'f')).toEqual({ kind: 'new' });
    s1.noteReceipt('k', 'sync', 'rcpt_1');
    expect(s1.begin('k', 'sync', 'f')).toMatchObject({ kind: 'in-progress' }); // still waiting for the commit
    expect(s1.release('k', 'sync')).toBe(false); // the receipt exists: not forgotten
    expect(s1.begin('k', 'sync', 'f')).toEqual({ kind: 'resume-receipt', receiptId: 'rcpt_1' });
    db1.close();
    const db2 = openDatabase(dir);
    const s2 = new IdempotencyStore(db2);
    expect(s2.begin('k', 'sync', 'f')).toEqual({ kind: 'resume-receipt', receiptId: 'rcpt_1' });
    s2.complete('k', 'sync', { status: 200, headers: { Location: '/api/v1/receipts/rcpt_1' }, body: { state: 'COMMITTED' } });
    expect(s2.begin('k', 'sync', 'f')).toEqual({ kind: 'replay', response: { status: 200, headers: { Location: '/api/v1/receipts/rcpt_1' }, body: { state: 'COMMITTED' } } });
    db2.close();
  });

  it('adds the receipt_id column to a database created before it existed', () => {
    const dir = tmpDir();
    const db1 = openDatabase(dir);
    new IdempotencyStore(db1);
    db1.exec('ALTER TABLE idempotency DROP COLUMN receipt_id');
    db1.close();
    const db2 = openDatabase(dir);
    const s = new IdempotencyStore(db2);
    s.begin('k', 'x', 'f');
    s.noteReceipt('k', 'x', 'rcpt_9');
    s.abandon('k', 'x');
    expect(s.begin('k', 'x', 'f')).toEqual({ kind: 'resume-receipt', receiptId: 'rcpt_9' });
    db2.close();
  });

  it('a new key is claimed in memory: no row until the request\'s first effect writes it, with the claim\'s fingerprint', () => {
    const dir = tmpDir();
    const db = openDatabase(dir);
    const s = new IdempotencyStore(db);
    const rows = () => db.prepare('SELECT principal, key, fingerprint, state, status FROM idempotency').all();
    expect(s.begin('k', 'a', 'f')).toEqual({ kind: 'new' });
    expect(rows()).toEqual([]);
    // while it runs, the same key is held: the same request waits, a different one is refused
    expect(s.begin('k', 'a', 'f')).toEqual({ kind: 'in-progress', txId: null, fromEarlierRun: false });
    expect(s.begin('k', 'a', 'other')).toEqual({ kind: 'mismatch' });
    // the answer is the first write: one row, completed, with the claim's fingerprint
    s.complete('k', 'a', { status: 202, headers: {}, body: { receiptId: 'r1' } });
    expect(rows()).toEqual([{ principal: 'k', key: 'a', fingerprint: 'f', state: 'completed', status: 202 }]);
    expect(s.begin('k', 'a', 'other')).toEqual({ kind: 'mismatch' });
    expect(s.begin('k', 'a', 'f')).toMatchObject({ kind: 'replay', response: { body: { receiptId: 'r1' } } });
    // a claim forgotten by a crash before any effect had none: the retry runs (and no stale row blocks it)
    expect(s.begin('k', 'b', 'g')).toEqual({ kind: 'new' });
    db.close();
    const s2 = new IdempotencyStore(openDatabase(dir));
    expect(s2.begin('k', 'b', 'g')).toEqual({ kind: 'new' });
  });

  it('release frees a claim; canonical JSON sorts keys at every level', () => {
    const s = new IdempotencyStore(openDatabase(tmpDir()));
    s.begin('k', 'x', 'f');
    s.release('k', 'x');
    expect(s.begin('k', 'x', 'other')).toEqual({ kind: 'new' });
    expect(canonicalJson({ b: { d: 1, c: [{ f: 1, e: 2 }] }, a: null })).toBe('{"a":null,"b":{"c":[{"e":2,"f":1}],"d":1}}');
  });
});
