/**
 * Issue 7's figure: SIMs from vendor file to on-chain identity, per stage and overall.
 *  - import: the vendor file into the inventory (the importer `simchain import` runs, in-process);
 *  - key generation: GENERATE KEY PAIR over OTA per SIM (secured, segmented, submit_sm) →
 *    SMSC simulator (its own process) → handset fleet (its own process) → card → PoR (several
 *    SMS) → matched, verified, recorded → the key's attestation checked against the vendor CA;
 *  - anchoring: Merkle tree of the batch, proofs stored, anchorBatch through the chain outbox
 *    on anvil, confirmed;
 *  - identity push: STORE DATA per SIM over OTA, PoR verified.
 * The cards are personalised before the clock starts (the card factory's run, not OTA's).
 * Prints SIMs/s per stage and overall, chain transactions and gas per SIM, and the peak RSS of
 * every process (PostgreSQL's not counted).
 */
import { spawn } from 'node:child_process';
import { createReadStream, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createLogger, formatMasterKeyring, importDirect, setVendorCa, startBackend, type Config } from '../provisioning-api/index.js';
import { createBatch } from '../provisioning-api/provisioning/batches.js';
import { createVendorCa, inventory, issueDerivedCardCertificate, vendorCaToPem } from '../sim-applet/index.js';
import { startAnvil } from '../simulators/chain/index.js';
import type { Benchmark } from './index.js';
import { fmtRate } from './measure.js';
import { inheritedNodeFlags } from './node-flags.js';

const SERVER = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const SIMCHAIN = fileURLToPath(new URL('../bin/simchain.js', import.meta.url));
const SIMS = Number(process.env.PROVISIONING_BENCH_SIMS ?? 100_000);

async function admin(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: SERVER });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/** CPU seconds (user + system) a process has used, from /proc (Linux). */
function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

/** CPU seconds of every PostgreSQL process on this machine (the server's share; other databases' work counts too). */
function postgresCpuSeconds(): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (!/^\d+ \(postgres\)/.test(stat)) continue;
      const fields = stat.split(') ')[1]!.split(' ');
      total += (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / 100;
    } catch {
      // gone meanwhile
    }
  }
  return total;
}

function peakRssMb(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** A `simchain` subcommand in its own process; resolves with its first stdout line as JSON. */
async function spawnReady(args: string[], nodeArgs: string[] = []): Promise<{ pid: number; ready: Record<string, unknown>; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [...inheritedNodeFlags(), ...nodeArgs, SIMCHAIN, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (line) => resolve(JSON.parse(line) as Record<string, unknown>));
    void exited.then(() => reject(new Error(`simchain ${args[0]} ${args[1]} exited before it was ready`)));
  });
  return {
    pid: child.pid!,
    ready,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

export const benchmark: Benchmark = {
  name: 'provisioning',
  summary: `${SIMS.toLocaleString('en-US')} SIMs from vendor file to on-chain identity (import, OTA keygen + PoR + attestation, Merkle anchoring, identity push): SIMs/s per stage and overall`,
  async run() {
    const name = `simchain_bench_prov_${randomBytes(4).toString('hex')}`;
    const dir = mkdtempSync(join(tmpdir(), 'simchain-bench-prov-'));
    const url = new URL(SERVER);
    url.pathname = `/${name}`;
    await admin(`CREATE DATABASE ${name}`);
    const cleanups: Array<() => Promise<unknown>> = [];
    try {
      const vendorFile = join(dir, 'vendor.csv');
      const vendorCa = createVendorCa({ random: randomBytes, now: new Date() });
      // The card factory's file carries each card's attestation certificate (ATTESTATION_CERT),
      // so the cards are asked to leave it out of their key generation PoR (2 SMS, not 4).
      // PROVISIONING_BENCH_CERTIFICATES=0 writes the file without them, as before.
      const withCertificates = process.env.PROVISIONING_BENCH_CERTIFICATES !== '0';
      const factoryStart = Date.now();
      const issuedAt = new Date();
      writeFileSync(vendorFile, [...inventory.generateVendorFile({
        format: 'csv', count: SIMS, random: randomBytes, tar: 'bfff01', firstSerial: 100_000,
        ...(withCertificates ? { certificate: (iccid: string) => issueDerivedCardCertificate({ iccid, ca: vendorCa, now: issuedAt, fastSignature: true }).certificate } : {}),
      })].join('\n') + '\n');
      console.log(`  vendor file (not timed): ${SIMS.toLocaleString('en-US')} cards${withCertificates ? ' with their certificates' : ''} in ${((Date.now() - factoryStart) / 1000).toFixed(0)} s`);
      writeFileSync(join(dir, 'vendor-ca.json'), JSON.stringify(vendorCaToPem(vendorCa)));

      const anvil = await startAnvil({});
      cleanups.push(() => anvil.stop());
      // Each MO part reaches the backend as it came. PROVISIONING_BENCH_JOIN_MO=1 has the SMSC
      // join concatenated MO (the key generation's PoR: 2 SMS, 4 without certificates in the
      // file) into one deliver_sm instead; in two A/B pairs at 20,000 SIMs with 4-SMS PoRs that
      // was no faster (README).
      const joinMo = process.env.PROVISIONING_BENCH_JOIN_MO === '1' ? ['--join-mo'] : [];
      const smsc = await spawnReady(['sim', 'smsc', '--port', '0', '--window', '1000', '--account', 'operator:op:operator', '--account', 'fleet:fleet:network', ...joinMo],
        process.env.PROVISIONING_BENCH_SMSC_NODE_ARGS?.split(' ').filter(Boolean));
      cleanups.push(() => smsc.stop());
      const port = Number(smsc.ready.port);
      const personaliseStart = Date.now();
      // The fleet holds as many card objects as the backend has commands in flight (its window,
      // 4,000): each card is used once a stage, so more would only be held for the garbage
      // collector to walk. With 20,000 the fleet's major collections took 250-435 ms each
      // and it used about 10% more CPU a SIM (README).
      const fleet = await spawnReady(['sim', 'fleet', '--smsc', `127.0.0.1:${port}`, '--vendor-file', vendorFile, '--vendor-ca', join(dir, 'vendor-ca.json'),
        '--dir', join(dir, 'cards'), '--personalise', '--max-live', '4000'], process.env.PROVISIONING_BENCH_FLEET_NODE_ARGS?.split(' ').filter(Boolean));
      cleanups.push(() => fleet.stop());
      console.log(`  card factory (not timed): ${SIMS.toLocaleString('en-US')} cards personalised in ${((Date.now() - personaliseStart) / 1000).toFixed(0)} s`);

      process.env.SIMCHAIN_MASTER_KEY = formatMasterKeyring([{ version: 1, key: randomBytes(32) }]);
      const config: Config = {
        home: join(dir, 'home'), host: '127.0.0.1', port: 0, databaseUrl: url.toString(), operatorName: 'operator', rateLimitPerMinute: 600,
        logLevel: 'warn', chainRpcUrl: anvil.rpcUrl, chainSignerKey: anvil.accounts[0]!.privateKey, chainConfirmations: 1,
        smpp: { host: '127.0.0.1', port, systemId: 'operator', password: 'op', tls: false }, smppSourceAddr: '4912345', smppBinds: 1, smppWindow: 100,
        otaPorTimeoutSeconds: 300, otaRetryBaseSeconds: 5, otaMaxAttempts: 4,
      };
      const backend = await startBackend({
        config, log: createLogger({ level: 'warn', stderr: true }), workers: true, http: false,
        chain: { rpcUrl: anvil.rpcUrl, signerKey: anvil.accounts[0]!.privateKey, confirmations: 1 },
        ota: { smsc: config.smpp!, sourceAddr: '4912345', binds: 1, window: 100, porTimeoutSeconds: 300 },
      });
      cleanups.push(() => backend.stop());
      const pool = backend.pool;
      const operator = (await pool.query<{ id: string; tenantId: string }>(`SELECT k.id, k.tenant_id AS "tenantId" FROM api_keys k JOIN tenants t ON t.id = k.tenant_id WHERE t.kind = 'operator' LIMIT 1`)).rows[0]!;

      // Stage 1: import.
      const t0 = Date.now();
      const sha = createHash('sha256').update(readFileSync(vendorFile)).digest();
      const imported = await importDirect({ pool, keyring: backend.services.keyring, tenantId: operator.tenantId, open: () => createReadStream(vendorFile), sha256: sha });
      if (imported.outcome !== 'completed') throw new Error(`import: ${imported.outcome}`);
      await setVendorCa(pool, imported.importId, Buffer.from(vendorCa.certificate));
      const t1 = Date.now();

      // Stages 2-4: one batch of every SIM, through the provisioning workers.
      const batch = await createBatch(backend.services, { keyId: operator.id, tenantId: operator.tenantId, tenantKind: 'operator', role: 'carrier-ops' }, { selector: { importId: imported.importId } });
      const cpu = () => ({ backend: cpuSeconds(process.pid), smsc: cpuSeconds(smsc.pid), fleet: cpuSeconds(fleet.pid), anvil: cpuSeconds(anvil.pid), postgres: postgresCpuSeconds() });
      const cpuAt: Record<string, ReturnType<typeof cpu>> = { start: cpu() };
      let tKeyed = 0;
      let tAnchored = 0;
      let tDone = 0;
      let lastPrint = 0;
      // The stages end at the batch's own timestamps (keygen_finished_at, anchored_at,
      // completed_at: set in the transactions that end them). The watcher reads the batch's
      // row alone ten times a second; counting its items (a pass over all of them) is left to
      // the progress line every ten seconds, as that is PostgreSQL work counted below too.
      const ms = (v: string | null) => (v === null ? 0 : Number(v));
      for (;;) {
        const b = (await pool.query<{ state: string; keyed: string | null; anchored: string | null; done: string | null }>(
          `SELECT state, (extract(epoch FROM keygen_finished_at) * 1000)::text AS keyed, (extract(epoch FROM anchored_at) * 1000)::text AS anchored,
                  (extract(epoch FROM completed_at) * 1000)::text AS done
             FROM provisioning_batches WHERE id = $1`, [batch.id])).rows[0]!;
        const now = Date.now();
        if (!tKeyed && b.keyed !== null) {
          tKeyed = ms(b.keyed);
          cpuAt.keyed = cpu();
        }
        if (b.anchored !== null) tAnchored = ms(b.anchored);
        if (b.state === 'completed' || b.state === 'failed') {
          tDone = b.done === null ? now : ms(b.done);
          if (!tKeyed) tKeyed = tDone;
          if (!tAnchored) tAnchored = tDone;
          cpuAt.done = cpu();
          break;
        }
        if (now - lastPrint > Number(process.env.PROVISIONING_BENCH_PRINT_MS ?? 10_000)) {
          lastPrint = now;
          const c = (await pool.query<{ keyed: number; done: number }>(
            `SELECT count(*) FILTER (WHERE state NOT IN ('queued', 'keygen-sent'))::int AS keyed,
                    count(*) FILTER (WHERE state IN ('done', 'failed', 'push-failed'))::int AS done
               FROM provisioning_items WHERE batch_id = $1`, [batch.id])).rows[0]!;
          const m = (await pool.query<{ state: string; n: number }>(`SELECT state, count(*)::int AS n FROM ota_messages GROUP BY 1 ORDER BY 1`)).rows.map((r) => `${r.state} ${r.n}`).join(", ");
          process.stderr.write(`  ... ${b.state}: ${c.keyed.toLocaleString("en-US")} keyed, ${c.done.toLocaleString("en-US")} done after ${((now - t1) / 1000).toFixed(1)} s; OTA: ${m}; gateway ${JSON.stringify(backend.ota?.counts)}\n`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      const f = (await pool.query<{ done: number; failed: number; gas: string; leafs: number; txs: number; messages: number; parts: number }>(
        `SELECT (SELECT count(*)::int FROM provisioning_items WHERE batch_id = $1 AND state = 'done') AS done,
                (SELECT count(*)::int FROM provisioning_items WHERE batch_id = $1 AND state IN ('failed', 'push-failed')) AS failed,
                (SELECT anchor_gas_used::text FROM provisioning_batches WHERE id = $1) AS gas,
                (SELECT leaf_count FROM provisioning_batches WHERE id = $1) AS leafs,
                (SELECT count(*)::int FROM chain_outbox WHERE id LIKE 'provisioning:%') AS txs,
                (SELECT count(*)::int FROM ota_messages) AS messages,
                (SELECT count(*)::int FROM ota_submissions) AS parts`, [batch.id])).rows[0]!;
      const s = (ms: number) => ms / 1000;
      const rate = (ms: number) => fmtRate(SIMS / s(ms));
      console.log(`  import:          ${rate(t1 - t0)} (${s(t1 - t0).toFixed(1)} s)`);
      console.log(`  key generation:  ${rate(tKeyed - t1)} (${s(tKeyed - t1).toFixed(1)} s: OTA GENERATE KEY PAIR, PoR, attestation)`);
      console.log(`  anchoring:       ${s(tAnchored - tKeyed).toFixed(1)} s (Merkle tree of ${f.leafs.toLocaleString('en-US')} leaves, proofs stored, anchorBatch confirmed)`);
      console.log(`  identity push:   ${rate(tDone - tAnchored)} (${s(tDone - tAnchored).toFixed(1)} s: OTA STORE DATA, PoR)`);
      console.log(`  overall:         ${rate(tDone - t0)} from vendor file to on-chain identity (${s(tDone - t0).toFixed(1)} s; provisioning alone ${rate(tDone - t1)}); goal >= 1,000/s`);
      const g = backend.ota?.counts;
      console.log(`  result:          ${f.done.toLocaleString('en-US')} SIMs done, ${f.failed} failed; ${f.messages.toLocaleString('en-US')} OTA commands in ${f.parts.toLocaleString('en-US')} MT SMS; ${(g?.receipts ?? 0).toLocaleString('en-US')} delivery receipts (${g?.unknownReceipts ?? 0} unmatched), ${(g?.pors ?? 0).toLocaleString('en-US')} PoRs`);
      console.log(`  chain:           ${f.txs} transaction(s) for the batch, anchorBatch ${Number(f.gas).toLocaleString('en-US')} gas = ${(Number(f.gas) / SIMS).toFixed(3)} gas per SIM`);
      const per = (a: ReturnType<typeof cpu>, b: ReturnType<typeof cpu>) =>
        (Object.keys(a) as Array<keyof typeof a>).map((k) => `${k} ${Math.round(((b[k] - a[k]) / SIMS) * 1e6)} µs`).join(', ');
      console.log(`  CPU per SIM:     key generation: ${per(cpuAt.start!, cpuAt.keyed ?? cpuAt.done!)}; anchoring + identity: ${per(cpuAt.keyed ?? cpuAt.done!, cpuAt.done!)} (postgres: every server process, children included)`);
      // How much of the machine the stages kept busy: the CPU time of every process above
      // over the stage's wall time and the machine's cores. What is left was idle.
      const use = (a: ReturnType<typeof cpu>, b: ReturnType<typeof cpu>, ms: number) =>
        `${Math.round((100 * (Object.keys(a) as Array<keyof typeof a>).reduce((sum, k) => sum + b[k] - a[k], 0)) / ((ms / 1000) * availableParallelism()))}%`;
      console.log(`  machine use:     key generation ${use(cpuAt.start!, cpuAt.keyed ?? cpuAt.done!, tKeyed - t1)}, anchoring + identity ${use(cpuAt.keyed ?? cpuAt.done!, cpuAt.done!, tDone - tKeyed)} of ${availableParallelism()} cores`);
      // Where PostgreSQL's work went: rows read by sequential scans (a query that outgrew its
      // index shows here) and updates that could not stay on their page (HOT) per table.
      const tables = (await pool.query<{ relname: string; seq_scan: string; seq_tup_read: string; idx_scan: string; n_tup_upd: string; n_tup_hot_upd: string; n_tup_ins: string }>(
        `SELECT relname, seq_scan, seq_tup_read, coalesce(idx_scan, 0) AS idx_scan, n_tup_ins, n_tup_upd, n_tup_hot_upd
           FROM pg_stat_user_tables WHERE schemaname = 'public' ORDER BY n_tup_ins + n_tup_upd + seq_tup_read DESC LIMIT 8`,
      )).rows;
      console.log(`  tables:          ${tables.map((r) => `${r.relname} (ins ${Number(r.n_tup_ins).toLocaleString('en-US')}, upd ${Number(r.n_tup_upd).toLocaleString('en-US')} of which HOT ${Number(r.n_tup_hot_upd).toLocaleString('en-US')}, seq scans ${r.seq_scan} reading ${Number(r.seq_tup_read).toLocaleString('en-US')} rows, index scans ${Number(r.idx_scan).toLocaleString('en-US')})`).join('; ')}`);
      console.log(`  peak RSS:        backend ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB, SMSC ${peakRssMb(smsc.pid).toFixed(0)} MB, fleet ${peakRssMb(fleet.pid).toFixed(0)} MB, anvil ${peakRssMb(anvil.pid).toFixed(0)} MB (PostgreSQL not counted)`);
    } finally {
      for (const c of cleanups.reverse()) await c().catch(() => undefined);
      await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
