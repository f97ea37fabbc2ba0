import { ConfigError, parseConfig, withNetworkInterval, type CommunityConfig } from '../src/config';

describe('configuration', () => {
  test("defaults: 12 households, 2 zones, the network's interval (0 until read), state under the home", () => {
    const c = parseConfig([], { GRIDLEDGER_HOME: '/tmp/h' });
    expect(c).toMatchObject({ home: '/tmp/h', stateDir: '/tmp/h/community', households: 12, zones: 2, intervalSeconds: 0, seed: 1, faultyShare: 0, utilities: 0 });
  });
  test("the interval follows the network's minIntervalSeconds unless one is configured", async () => {
    const c = parseConfig([], { GRIDLEDGER_HOME: '/tmp/h' }) as CommunityConfig;
    expect((await withNetworkInterval(c, async () => ({ minIntervalSeconds: 60 }))).intervalSeconds).toBe(60);
    expect((await withNetworkInterval(c, async () => ({ minIntervalSeconds: 300 }))).intervalSeconds).toBe(300);
    const asked = jest.fn(async () => ({ minIntervalSeconds: 60 }));
    const fixed = parseConfig(['--interval', '900'], { GRIDLEDGER_HOME: '/tmp/h' }) as CommunityConfig;
    expect((await withNetworkInterval(fixed, asked)).intervalSeconds).toBe(900);
    expect(asked).not.toHaveBeenCalled();
    await expect(withNetworkInterval(c, async () => ({}))).rejects.toThrow(/set --interval/);
    await expect(withNetworkInterval(c, async () => ({ minIntervalSeconds: 70 }))).rejects.toThrow(ConfigError);
  });
  test('flags win over the environment', () => {
    const c = parseConfig(['--households', '30', '--seed', '9', '--faulty-share', '0.2'], { GRIDLEDGER_HOME: '/tmp/h', COMMUNITY_HOUSEHOLDS: '5', COMMUNITY_SEED: '3' });
    expect(c).toMatchObject({ households: 30, seed: 9, faultyShare: 0.2 });
  });
  test('bad values say what to fix', () => {
    expect(() => parseConfig([], {})).toThrow(/--home DIR or GRIDLEDGER_HOME/);
    expect(() => parseConfig(['--households', 'many'], { GRIDLEDGER_HOME: '/h' })).toThrow(/households must be an integer/);
    expect(() => parseConfig(['--interval', '700'], { GRIDLEDGER_HOME: '/h' })).toThrow(/divide a day/);
    expect(() => parseConfig(['--interval', '30'], { GRIDLEDGER_HOME: '/h' })).toThrow(/interval must be an integer in \[60, 3600\]/);
    expect(() => parseConfig(['--faulty-share', '2'], { GRIDLEDGER_HOME: '/h' })).toThrow(ConfigError);
    expect(() => parseConfig(['--profile-start', 'yesterday'], { GRIDLEDGER_HOME: '/h' })).toThrow(/ISO 8601/);
    expect(() => parseConfig(['--colour', 'red'], { GRIDLEDGER_HOME: '/h' })).toThrow(ConfigError);
  });
  test('--help', () => {
    expect(parseConfig(['--help'], {})).toBe('help');
  });
});
