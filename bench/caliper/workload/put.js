'use strict';
/**
 * One-key puts on the conformance chaincode (test/conformance-chaincode `put`): a write that reads
 * nothing, so no two transactions conflict and every failure is the network's or the client's.
 * Keys are unique per run, worker and transaction.
 */
const { WorkloadModuleBase } = require('@hyperledger/caliper-core');

class Put extends WorkloadModuleBase {
  async initializeWorkloadModule(workerIndex, totalWorkers, roundIndex, roundArguments, sutAdapter, sutContext) {
    await super.initializeWorkloadModule(workerIndex, totalWorkers, roundIndex, roundArguments, sutAdapter, sutContext);
    this.run = roundArguments.run;
    this.n = 0;
  }

  async submitTransaction() {
    this.n += 1;
    const key = `caliper:${this.run}:${this.roundIndex}:${this.workerIndex}:${this.n}`;
    await this.sutAdapter.sendRequests({
      contractId: 'conformance', contractFunction: 'put', contractArguments: [key, 'v'],
      invokerIdentity: this.roundArguments.identity, readOnly: false,
    });
  }
}

module.exports.createWorkloadModule = () => new Put();
