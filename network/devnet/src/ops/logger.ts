/** pino JSON logs (one line per event) — the same shape every devnet module writes. */
import pino from 'pino';

export type Logger = pino.Logger;

export function createLogger(level = process.env.DEVNET_LOG_LEVEL ?? 'info', destination?: pino.DestinationStream): Logger {
  return pino({ name: 'devnet', level, base: { pid: process.pid } }, destination ?? pino.destination({ sync: true }));
}

/** A logger that drops everything (tests). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
