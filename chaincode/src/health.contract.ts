import { Info, Returns, Transaction } from 'fabric-contract-api';
import { GridLedgerContract } from './kernel/contract';
import { canonicalJson } from './kernel/codec';
import { CHAINCODE_NAME, CHAINCODE_VERSION } from './version';
import { GridLedgerContext } from './kernel/context';

@Info({ title: 'health', description: 'Liveness of the chaincode' })
export class HealthContract extends GridLedgerContract {
  constructor() {
    super('health');
  }

  /** Any caller; touches no state, so it proves the chaincode process answers. */
  @Transaction(false)
  @Returns('string')
  async ping(_ctx: GridLedgerContext): Promise<string> {
    return canonicalJson({ chaincode: CHAINCODE_NAME, status: 'ok', version: CHAINCODE_VERSION });
  }
}
