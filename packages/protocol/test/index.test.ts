import { PROTOCOL_VERSION } from '../src';

describe('@gridledger/protocol', () => {
  it('exports its version as semver', () => {
    expect(PROTOCOL_VERSION).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
