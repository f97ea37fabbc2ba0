import { Context, Contract, Info, Returns, Transaction } from 'fabric-contract-api';
import { canonicalJson } from '../kernel/codec';
import { CHAINCODE_NAME, CHAINCODE_VERSION } from '../version';

@Info({ title: 'health', description: 'Liveness of the chaincode' })
export class HealthContract extends Contract {
  constructor() {
    super('health');
  }

  /** Any caller; touches no state, so it proves the chaincode process answers. */
  @Transaction(false)
  @Returns('string')
  async ping(_ctx: Context): Promise<string> {
    return canonicalJson({ chaincode: CHAINCODE_NAME, status: 'ok', version: CHAINCODE_VERSION });
  }
}
