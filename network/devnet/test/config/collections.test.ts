import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseNetworkConfig } from '@gridledger/protocol';
import { findCollection, implicitCollectionForOrg } from '../../src/config/collections';
import { nth } from '../lists';

const SHIPPED = readFileSync(join(__dirname, '../../../../test-network-config/network.yaml'), 'utf8');

describe('implicit per-org collections (F GenerateImplicitCollectionForOrg)', () => {
  test('any _implicit_org_<MSPID> resolves to a collection of that org alone, endorsed by its peers', () => {
    const cfg = parseNetworkConfig(SHIPPED);
    const cc = nth(cfg.chaincodes, 0);
    expect(findCollection(cc.collections, '_implicit_org_Utility2MSP')).toEqual({
      name: '_implicit_org_Utility2MSP',
      policy: "OR('Utility2MSP.member')",
      memberOnlyRead: false,
      memberOnlyWrite: false,
      endorsementPolicy: "OR('Utility2MSP.peer')",
    });
    expect(findCollection(cc.collections, '_implicit_org_')).toBeUndefined();
    expect(findCollection(cc.collections, 'nosuch')).toBeUndefined();
    expect(implicitCollectionForOrg('X').name).toBe('_implicit_org_X');
  });

});
