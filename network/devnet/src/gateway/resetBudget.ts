/**
 * Keeps clients that reset every finished stream (grpc-js ≤ 1.10.3, as Caliper 0.6 and
 * fabric-gateway 1.5 install it) connected under sustained load, as they stay connected to a
 * Fabric peer or orderer.
 *
 * Why: Node's HTTP/2 server is nghttp2, which since 1.57 (the CVE-2023-44487 "rapid reset" fix)
 * keeps a per-session token bucket for RST_STREAM frames it receives — 1000 tokens, 33 regenerated a
 * second — and when it is empty queues GOAWAY(INTERNAL_ERROR) itself, in C, without telling
 * JavaScript first (`nghttp2_session_on_rst_stream_received` → `session_update_stream_reset_ratelim`).
 * Every received RST_STREAM costs a token, also one for a stream that has already finished.
 * grpc-js 1.10.3's client closes each call's stream with `http2Stream.close()` after the trailers
 * (`subchannel-call.js` `destroyHttp2Stream`), so every call costs a token: above 33 calls a second
 * a connection is torn down after ~1000 calls and the calls in flight on it fail with
 * `13 INTERNAL: Received RST_STREAM with code 2 triggered by internal client error: Session closed
 * with error code 2`. (grpc-js 1.10.4 stopped sending the redundant reset, grpc/grpc-node#2695.)
 * Node 20 cannot raise the limit: its http2 options have no `streamResetBurst`/`streamResetRate`
 * (`internal/http2/util.js` `updateOptionsBuffer`), and grpc-js would not pass them to
 * `http2.createSecureServer` anyway. Fabric's Go gRPC server has no such limiter.
 *
 * What: we model the same bucket per session, charging one token per stream the client opens (an
 * upper bound of the resets it can send for them), and before the bucket can run dry we end the
 * session gracefully as gRPC's max-connection-age does: GOAWAY(NO_ERROR, last stream 2^31-1), then
 * `close()` — calls in flight finish on the old connection, the client opens a new one for the next
 * calls (a stream the server had not seen is refused and retried transparently by grpc-js). Once a
 * GOAWAY is submitted nghttp2 stops counting resets for that session, so nothing fails. A client
 * below 33 calls a second never sees a GOAWAY.
 */
import * as http2 from 'node:http2';
import type * as grpc from '@grpc/grpc-js';

/** nghttp2's NGHTTP2_DEFAULT_STREAM_RESET_BURST / _RATE (lib/nghttp2_session.h, nghttp2 ≥ 1.57). */
export const NGHTTP2_RESET_BURST = 1000;
export const NGHTTP2_RESET_RATE_PER_S = 33;

export interface ResetBudgetOptions {
  burst?: number;
  ratePerSecond?: number;
  /**
   * Tokens kept in hand when the session is rotated: covers nghttp2 refilling in whole seconds
   * (`nghttp2_time_now_sec`) where the model refills continuously, and clock differences.
   */
  reserve?: number;
  /** called once per session rotated (tests, logs) */
  onRotate?: (streamsOnSession: number) => void;
  now?: () => number;
}

/** The token bucket of one session, charged one token per stream. */
export class ResetBucket {
  private tokens: number;
  private last: number;
  constructor(
    private readonly burst: number,
    private readonly ratePerMs: number,
    now: number,
  ) {
    this.tokens = burst;
    this.last = now;
  }
  /** Charges one stream; returns the tokens left. */
  charge(now: number): number {
    this.tokens = Math.min(this.burst, this.tokens + (now - this.last) * this.ratePerMs) - 1;
    this.last = now;
    return this.tokens;
  }
}

/** Watches one HTTP/2 server session; rotates it before nghttp2's reset limiter would fire. */
export function watchSession(session: http2.ServerHttp2Session, o: ResetBudgetOptions = {}): void {
  const now = o.now ?? Date.now;
  const bucket = new ResetBucket(o.burst ?? NGHTTP2_RESET_BURST, (o.ratePerSecond ?? NGHTTP2_RESET_RATE_PER_S) / 1000, now());
  const reserve = o.reserve ?? 200;
  let streams = 0;
  const onStream = (): void => {
    streams++;
    if (bucket.charge(now()) >= reserve) return;
    session.off('stream', onStream);
    if (session.closed || session.destroyed) return;
    try {
      session.goaway(http2.constants.NGHTTP2_NO_ERROR, 2 ** 31 - 1);
      session.close();
    } catch {
      // the session is already closing
      return;
    }
    o.onRotate?.(streams);
  };
  session.on('stream', onStream);
}

/**
 * Applies `watchSession` to every session of a bound grpc-js server. grpc-js keeps its
 * `http2.Http2SecureServer`s in the private map `http2Servers` (1.10–1.14 `server.ts`); there is no
 * public hook for sessions, so fail loudly if that changes rather than silently lose the guard.
 * Call after `bindAsync` has completed and before clients are told the address.
 */
export function guardStreamResetBudget(server: grpc.Server, o: ResetBudgetOptions = {}): void {
  const servers = (server as unknown as { http2Servers?: unknown }).http2Servers;
  if (!(servers instanceof Map) || servers.size === 0) {
    throw new Error('guardStreamResetBudget: grpc-js Server has no http2Servers map (grpc-js changed?) or is not bound yet');
  }
  for (const h2 of servers.keys() as Iterable<http2.Http2SecureServer>) {
    h2.on('session', (session: http2.ServerHttp2Session) => watchSession(session, o));
  }
}
