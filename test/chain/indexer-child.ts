/**
 * An indexer process for the kill tests: it follows the registry into the database and prints
 * `PAGE <from> <to> <events>` after each committed page. Environment: RPC_URL, DATABASE_URL,
 * REGISTRY, MAX_BLOCK_RANGE, and KILL_AT_COMMIT: n to die by SIGKILL just before the n-th
 * COMMIT is sent (inside a page's transaction, its rows written but not committed), or
 * 'never' to run until the test kills it.
 */
import pg from 'pg';
import { connectChain, RegistryIndexer } from '../../provisioning-api/chain/index.js';
import { createPool } from '../../provisioning-api/index.js';

const env = (name: string): string => {
  const v = process.env[name];
  if (v === undefined) throw new Error(`${name} is not set`);
  return v;
};

const killAt = env('KILL_AT_COMMIT') === 'never' ? Infinity : Number(env('KILL_AT_COMMIT'));
let commits = 0;
const query = pg.Client.prototype.query as (...args: unknown[]) => unknown;
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]): unknown {
  if (args[0] === 'COMMIT' && ++commits === killAt) process.kill(process.pid, 'SIGKILL');
  return query.apply(this, args);
} as typeof pg.Client.prototype.query;

const indexer = await RegistryIndexer.open({
  pool: createPool(env('DATABASE_URL'), { max: 2, applicationName: 'indexer-child' }),
  connection: await connectChain(env('RPC_URL')),
  registry: env('REGISTRY'),
  maxBlockRange: Number(env('MAX_BLOCK_RANGE')),
  pollIntervalMs: 50,
  onPage: (p) => process.stdout.write(`PAGE ${p.fromBlock} ${p.toBlock} ${p.events}\n`),
  onError: (e) => process.stderr.write(`indexer-child: ${String(e)}\n`),
});
indexer.start();
