'use strict';
/*
 * Conformance chaincode: a plain Fabric contract (no GridLedger code) that the conformance suite in
 * test/e2e/conformance drives through @hyperledger/fabric-gateway. It runs unchanged as a
 * chaincode-as-a-service on the devnet and on Fabric, which is the point: it proves the devnet hosts
 * chaincode other than ours. Some functions are faulty on purpose (fail, nondeterministic).
 */
const { ConformanceContract } = require('./lib/conformance');

module.exports.ConformanceContract = ConformanceContract;
module.exports.contracts = [ConformanceContract];
