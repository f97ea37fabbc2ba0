/** Chaincode version reported by health:ping; bump with the package version. */
export const CHAINCODE_NAME = 'gridledger';
export const CHAINCODE_VERSION = '0.2.0';
