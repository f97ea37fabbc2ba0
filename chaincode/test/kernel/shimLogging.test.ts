/**
 * kernel/shimLogging.ts: fabric-shim's lines below the configured level are dropped before winston
 * formats them; lines at an enabled level still go through the format to the transport.
 */
import { skipDisabledShimLogs } from '../../src/kernel/shimLogging';

interface ShimLogger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  format: { transform: (info: unknown, opts: unknown) => unknown };
  transports: Array<{ log?: (info: unknown, cb: () => void) => void }>;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports -- fabric-shim ships no types for its logger
const shimLogger = require('fabric-shim/lib/logger') as { getLogger(name: string): ShimLogger };

describe('fabric-shim logging (skipDisabledShimLogs)', () => {
  const saved = process.env.CORE_CHAINCODE_LOGGING_LEVEL;
  afterAll(() => {
    if (saved === undefined) delete process.env.CORE_CHAINCODE_LOGGING_LEVEL;
    else process.env.CORE_CHAINCODE_LOGGING_LEVEL = saved;
  });

  function loggerAt(level: string, name: string) {
    process.env.CORE_CHAINCODE_LOGGING_LEVEL = level;
    const logger = shimLogger.getLogger(name);
    const formatted: unknown[] = [];
    const transform = logger.format.transform.bind(logger.format);
    logger.format.transform = (info, opts) => {
      formatted.push((info as { message: unknown }).message);
      return transform(info, opts);
    };
    const transport = logger.transports[0]!;
    const printed: unknown[] = [];
    const log = jest.spyOn(transport, 'log' as never).mockImplementation(((info: { message: unknown }, cb: () => void) => {
      printed.push(String(info.message).trim()); // padLevels pads the message
      cb();
    }) as never);
    return { logger, formatted, printed, restore: () => log.mockRestore() };
  }

  it('without the hook, winston formats a debug line it never prints (the cost the hook removes)', () => {
    const { logger, formatted, printed, restore } = loggerAt('WARNING', 'test-before');
    try {
      logger.debug('d0');
      expect(formatted).toEqual(['d0']);
      expect(printed).toEqual([]);
    } finally {
      restore();
    }
  });

  it('drops debug and info lines at WARNING before formatting; warnings and errors are formatted and printed', () => {
    expect(skipDisabledShimLogs()).toBe(true);
    expect(skipDisabledShimLogs()).toBe(true); // idempotent
    const { logger, formatted, printed, restore } = loggerAt('WARNING', 'test-warning');
    try {
      logger.debug('d1');
      logger.info('i1');
      logger.warn('w1');
      logger.error('e1');
      expect(formatted).toEqual(['w1', 'e1']);
      expect(printed).toEqual(['w1', 'e1']);
    } finally {
      restore();
    }
  });

  it('at DEBUG every line goes on to winston\'s format as before', () => {
    skipDisabledShimLogs();
    const { logger, formatted, printed, restore } = loggerAt('DEBUG', 'test-debug');
    try {
      logger.debug('d2');
      logger.info('i2');
      expect(formatted).toEqual(['d2', 'i2']);
      // (what the shim's one shared console transport then prints follows the level of the first logger
      // piped into it — winston-transport's `parent` — as without the hook)
      void printed;
    } finally {
      restore();
    }
  });
});
