/** Process configuration from the environment: defaults, and clear errors for what cannot work. */
import t from 'tap';
import { loadConfig, ConfigError } from '../../provisioning-api/index.js';

t.test('defaults: embedded everything', async (t) => {
  const c = loadConfig({}, '/srv');
  t.equal(c.home, '/srv/.simchain');
  t.equal(c.port, 3000);
  t.equal(c.databaseUrl, null);
  t.equal(c.chainRpcUrl, null);
  t.equal(c.chainSignerKey, null);
  t.equal(c.chainConfirmations, 1);
});

t.test('a chain needs its signer, and the signer must be a key', async (t) => {
  const key = '0x' + '11'.repeat(32);
  const c = loadConfig({ CHAIN_RPC_URL: 'http://node:8545', CHAIN_SIGNER_KEY: key, CHAIN_CONFIRMATIONS: '12' }, '/srv');
  t.same([c.chainRpcUrl, c.chainSignerKey, c.chainConfirmations], ['http://node:8545', key, 12]);
  t.throws(() => loadConfig({ CHAIN_RPC_URL: 'http://node:8545' }), ConfigError);
  t.throws(() => loadConfig({ CHAIN_RPC_URL: 'http://node:8545', CHAIN_SIGNER_KEY: 'abc' }), ConfigError);
  t.throws(() => loadConfig({ CHAIN_CONFIRMATIONS: '0' }), ConfigError);
  t.throws(() => loadConfig({ PORT: '70000' }), ConfigError);
});
