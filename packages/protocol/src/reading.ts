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
