/**
 * One meter reading as a meter sends it (`meters:postReading`, `POST /api/v1/meters/{id}/readings`;
 * docs/api.md). Times are integer Unix seconds, energy integer Wh. The chaincode's parsed form
 * always has a `nonce` (`''` when none was sent); REST bodies omit `meterId` (the path names the meter).
 */
export interface Reading {
  meterId: string;
  /** start of the interval, aligned to `intervalLength` */
  intervalStart: number;
  intervalLength: number;
  importWh: number;
  exportWh: number;
  /** the meter's cumulative registers at the end of the interval */
  importRegisterWh: number;
  exportRegisterWh: number;
  /** Optional meter-chosen nonce: makes the public hash unguessable by dictionary attack. Never used in a decision. */
  nonce?: string;
}

/** Fields of a reading's canonical record, in the sorted order the record uses. */
const READING_RECORD_FIELDS = ['exportRegisterWh', 'exportWh', 'importRegisterWh', 'importWh', 'intervalLength', 'intervalStart', 'meterId', 'nonce'] as const;

/**
 * A reading's canonical record: its eight fields with sorted keys, `nonce` `''` when none was sent,
 * no time of posting. The chaincode stores and hashes exactly this text (so an identical re-post
 * hashes identically), and a relayed reading's signature covers it (`relayedReadingMessage`).
 */
export function readingRecordText(r: Reading): string {
  const ordered: Record<string, unknown> = {};
  for (const k of READING_RECORD_FIELDS) ordered[k] = k === 'nonce' ? (r.nonce ?? '') : r[k];
  return JSON.stringify(ordered);
}

/** Domain tag of a relayed reading's signature: the meter key signs nothing else under it. */
export const RELAY_SIGNATURE_DOMAIN = 'gridledger/relayed-reading/v1';

/**
 * The bytes a meter's key signs (ECDSA with SHA-256, DER signature, base64 on the wire) so that its
 * utility's gateway may relay the reading in a cross-meter batch (`meters:relayReadings`,
 * docs/market.md "Relayed readings"): the domain tag, the channel, the meter's MSP, the meter and the
 * reading's canonical record, one per line. Channel and MSP make a signature useless on another
 * channel or for a meter of the same name at another utility.
 */
export function relayedReadingMessage(channel: string, mspId: string, r: Reading): Buffer {
  return Buffer.from([RELAY_SIGNATURE_DOMAIN, channel, mspId, r.meterId, readingRecordText(r)].join('\n'), 'utf8');
}
