/**
 * A backend process for the lease tests: it waits for the signing key's lease, then sends
 * COUNT small transfers through the key's outbox (ids PREFIX-0..), adopting whatever other
 * processes plan for the key meanwhile, and holds the lease until it is killed.
 * Environment: RPC_URL, DATABASE_URL, KEY, TO, PREFIX, COUNT.
 * Prints `LEASED <pid of its lease's database session>`, then `DONE <nonces>`.
 */
import { connectChain, openSignerOutbox } from '../../provisioning-api/chain/index.js';
import { createPool } from '../../provisioning-api/index.js';

const env = (name: string): string => {
  const v = process.env[name];
  if (v === undefined) throw new Error(`${name} is not set`);
  return v;
};

const signer = await openSignerOutbox({
  pool: createPool(env('DATABASE_URL'), { max: 2, applicationName: `signer-child-${env('PREFIX')}` }),
  connection: await connectChain(env('RPC_URL')),
  privateKey: env('KEY'),
  leaseWaitMs: 60_000,
  leaseRetryMs: 50,
  pollIntervalMs: 50,
  adoptIntervalMs: 100,
});
process.stdout.write(`LEASED ${await signer.lease.sessionPid()}\n`);
const entries = await Promise.all(
  Array.from({ length: Number(env('COUNT')) }, (_, i) =>
    signer.outbox.submit(`${env('PREFIX')}-${i}`, { to: env('TO'), data: '0x', value: BigInt(i + 1) }),
  ),
);
process.stdout.write(`DONE ${entries.map((e) => e.nonce).join(',')}\n`);
setInterval(() => {}, 1_000);
