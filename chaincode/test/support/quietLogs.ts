// fabric-contract-api logs every decorator at info level; keep test output readable.
process.env.CORE_CHAINCODE_LOGGING_LEVEL = process.env.CORE_CHAINCODE_LOGGING_LEVEL ?? 'error';
