/**
 * Skips fabric-shim's log lines below the configured level before winston formats them.
 *
 * fabric-shim logs through winston (lib/logger.js: one logger per shim module, level from
 * CORE_CHAINCODE_LOGGING_LEVEL) and calls `logger.debug` for every message it exchanges with the peer
 * (lib/handler.js: each received message, each state call). winston runs the logger's whole format
 * (timestamp, metadata, colorize, padLevels, printf) on every line and only then lets the transport
 * drop what is below its level (winston lib/winston/logger.js `_transform`, winston-transport `_write`).
 * A relayed reading makes six state calls, so under bench:gateway these debug lines that are never
 * printed took about a sixth of the chaincode server's CPU (docs/benchmarks.md "Relayed batches that
 * gather a burst"). winston's own `isLevelEnabled` (the logger's level and its transports') now
 * decides first; a line at an enabled level, and an uncaught exception's, goes exactly as before.
 * Logging has no part in a transaction's result, so this changes nothing a peer endorses. Returns
 * whether the hook was installed (a winston without `isLevelEnabled` keeps its own behaviour;
 * test/kernel/shimLogging.test.ts notices).
 */
const LEVEL = Symbol.for('level');
const INSTALLED = Symbol.for('gridledger.skipDisabledShimLogs');

interface WinstonLoggerProto {
  write: (this: WinstonLoggerProto, info: unknown, ...rest: unknown[]) => boolean;
  isLevelEnabled?: (this: WinstonLoggerProto, level: string) => boolean;
  [INSTALLED]?: true;
}

export function skipDisabledShimLogs(): boolean {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- fabric-shim ships no types for its logger
  const shimLogger = require('fabric-shim/lib/logger') as { getLogger(name: string): object };
  // a shim logger's prototype is winston's per-logger DerivedLogger, whose prototype is winston's Logger
  const proto = Object.getPrototypeOf(Object.getPrototypeOf(shimLogger.getLogger('gridledger'))) as WinstonLoggerProto | null;
  if (!proto || typeof proto.isLevelEnabled !== 'function' || typeof proto.write !== 'function') return false;
  if (proto[INSTALLED]) return true;
  const write = proto.write;
  proto.write = function writeIfEnabled(this: WinstonLoggerProto, info: unknown, ...rest: unknown[]): boolean {
    if (info && typeof info === 'object' && (info as { exception?: unknown }).exception !== true) {
      const level = (info as Record<symbol, unknown>)[LEVEL] ?? (info as { level?: unknown }).level;
      if (typeof level === 'string' && !this.isLevelEnabled!(level)) return true;
    }
    return write.call(this, info, ...rest);
  };
  proto[INSTALLED] = true;
  return true;
}
