/**
 * A backend process for the crash tests: it takes the signing key's lease, anchors one batch
 * through the key's outbox in PostgreSQL, reports how far it got on stdout, and dies where it
 * is told to (SIGKILL, so nothing runs after). Environment: RPC_URL, DATABASE_URL, KEY,
 * REGISTRY, ROOT, LEAVES, BATCH_REF, CONFIRMATIONS, and CRASH_AFTER: 'planned', 'sent' or
 * 'mined' to die right after the entry reaches that state in the database (the write has
 * committed, nothing else has happened), or 'never' to be killed by the test. Once the
 * transaction is signed and broadcast it prints `SENT <hash>`.
 */
import { connectChain, openSignerOutbox, registryCalls, type OutboxEntry } from '../../provisioning-api/chain/index.js';
import { createPool } from '../../provisioning-api/index.js';

const env = (name: string): string => {
  const v = process.env[name];
  if (v === undefined) throw new Error(`${name} is not set`);
  return v;
};

const crashAfter = env('CRASH_AFTER');
const connection = await connectChain(env('RPC_URL'));
const signer = await openSignerOutbox({
  pool: createPool(env('DATABASE_URL'), { max: 2, applicationName: 'outbox-child' }),
  connection,
  privateKey: env('KEY'),
  confirmations: Number(env('CONFIRMATIONS')),
  pollIntervalMs: 50,
});

const store = signer.lease.store;
const die = (entry: OutboxEntry): void => {
  if (entry.state === crashAfter) process.kill(process.pid, 'SIGKILL');
};
const insert = store.insert.bind(store);
store.insert = async (entry) => {
  const stored = await insert(entry);
  die(stored);
  return stored;
};
const update = store.update.bind(store);
store.update = async (next) => {
  const ok = await update(next);
  if (ok) die(next);
  return ok;
};

const request = registryCalls.anchorBatch(env('REGISTRY'), env('ROOT'), Number(env('LEAVES')), env('BATCH_REF'));
const entry = await signer.outbox.submit(`anchor:${env('BATCH_REF')}`, request, { until: 'sent' });
process.stdout.write(`SENT ${entry.attempts[0]!.hash}\n`);
// Wait to be killed, as a process that was in the middle of something.
setInterval(() => {}, 1_000);
