/** See fabricBinaries.js. */
export function findFabricBin(): string | undefined;
export const PEER_CLI_NOT_RUN: string;
