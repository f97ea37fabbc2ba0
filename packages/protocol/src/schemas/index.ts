/** Transaction input schemas (docs/architecture.md "Transaction schemas"). */
export * from './fields';
export * from './market';
export * from './governance';
export * from './registry';
export * from './transactions';
export * from './validate';
export * from './catalogue';
