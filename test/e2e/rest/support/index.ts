/**
 * REST suite support, one module per concern (the suites import `./support`): gateways and their
 * processes, the HTTP client, meters and readings, direct ledger reads, the shared community, the event
 * stream. Tier-agnostic: only $GRIDLEDGER_HOME/gateways.json and network.json are read.
 */
export * from './gateways';
export * from './http';
export * from './meters';
export * from './ledger';
export * from './community';
export * from './sse';
