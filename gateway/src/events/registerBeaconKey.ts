/**
 * The beacon key's registration at start-up (docs/governance.md §5 "Entropy: the utility beacon"): a background
 * loop, because the network may still be starting when the gateway is; a conflicting key stops it
 * for good (the operator must resolve it), anything else is retried with a growing delay.
 */
import type { Logger } from 'pino';
import { BeaconKeyConflictError, type BeaconService } from './beacon';

export interface BeaconRegistration {
  state: string;
}

/** Registers the beacon key in the background until it is done (the network may still be starting). */
export async function registerBeaconKey(gw: { beacon?: BeaconService | undefined; beaconRegistration: BeaconRegistration }, logger: Logger, retryMs: number, stopped: () => boolean): Promise<void> {
  for (let attempt = 1; gw.beacon && !stopped(); attempt++) {
    try {
      gw.beaconRegistration.state = await gw.beacon.registerKey();
      logger.info({ state: gw.beaconRegistration.state }, 'beacon key checked');
      return;
    } catch (e) {
      const msg = (e as Error).message;
      gw.beaconRegistration.state = `failed: ${msg}`;
      if (e instanceof BeaconKeyConflictError) {
        logger.error({ err: msg }, 'beacon key conflict: this utility will not contribute until it is resolved');
        return;
      }
      logger.warn({ err: msg, attempt }, 'beacon key registration failed; retrying');
      await new Promise((r) => setTimeout(r, Math.min(30_000, retryMs * attempt)).unref());
    }
  }
}

