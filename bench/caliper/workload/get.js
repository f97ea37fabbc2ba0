'use strict';
/** Evaluates (no ordering) of the conformance chaincode's `get` on one key. */
const { WorkloadModuleBase } = require('@hyperledger/caliper-core');

class Get extends WorkloadModuleBase {
  async submitTransaction() {
    await this.sutAdapter.sendRequests({
      contractId: 'conformance', contractFunction: 'get', contractArguments: [`caliper:${this.roundArguments.run}:0:0:1`],
      invokerIdentity: this.roundArguments.identity, readOnly: true,
    });
  }
}

module.exports.createWorkloadModule = () => new Get();
