/**
 * OTA round trips per second through the whole path, beside raw submit_sm over the same bind:
 *  - round trip: the backend secures a GET STATUS (AES, CC, counter) for an imported SIM and
 *    writes its row, submit_sm (window 100) → SMSC simulator → deliver_sm to the handset fleet
 *    (its own process: `simchain sim fleet`) → SMS-DELIVER in an ENVELOPE to the card, card
 *    state saved → PoR by SMS-SUBMIT → submit_sm → SMSC → deliver_sm to the backend → matched,
 *    verified (CC, counter) and recorded, with the delivery receipt recorded too;
 *  - baseline: submit_sm/s over the same bind with no cards behind it (the fleet stopped, no
 *    receipts), as PITFALLS.md measured the package alone.
 * The cards are personalised in a warm-up round first (the card factory's work, not OTA's).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createPool, loadImport, MasterKeyring, migrate, receiveImport } from '../provisioning-api/index.js';
import { OtaGateway, type OtaSettled } from '../provisioning-api/smpp/ota-gateway.js';
import { otaSubmitFields } from '../provisioning-api/smpp/ota-pdu.js';
import { createVendorCa, getStatusApdu, inventory, vendorCaToPem } from '../sim-applet/index.js';
import type { Benchmark } from './index.js';
import { fmtRate, median } from './measure.js';
import { inheritedNodeFlags } from './node-flags.js';

const SERVER = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const SIMCHAIN = fileURLToPath(new URL('../bin/simchain.js', import.meta.url));
const CARDS = Number(process.env.OTA_BENCH_CARDS ?? 4000);
const ROUNDS = 3;

async function withAdmin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: SERVER });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** CPU seconds (user + system) a process has used, from /proc (Linux). */
function cpuSecondsOf(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

export const benchmark: Benchmark = {
  name: 'ota-roundtrip',
  summary: 'verified OTA round trips per second (backend → SMSC simulator → fleet process → card → PoR → recorded), window 100, vs raw submit_sm/s on the same bind',
  async run() {
    const name = `simchain_bench_ota_${randomBytes(4).toString('hex')}`;
    const dir = mkdtempSync(join(tmpdir(), 'simchain-bench-ota-'));
    await withAdmin((c) => c.query(`CREATE DATABASE ${name}`));
    const url = new URL(SERVER);
    url.pathname = `/${name}`;
    const cleanups: Array<() => Promise<unknown>> = [];
    try {
      await migrate(url.toString());
      const pool = createPool(url.toString(), { max: 8 });
      cleanups.push(() => pool.end());
      const keyring = new MasterKeyring({ version: 1, key: randomBytes(32) });
      const tenant = (await pool.query<{ id: string }>(`INSERT INTO tenants (name, kind) VALUES ('operator', 'operator') RETURNING id`)).rows[0]!.id;
      const text = [...inventory.generateVendorFile({ format: 'csv', count: CARDS, random: randomBytes, tar: 'bfff01' })].join('\n') + '\n';
      const vendorFile = join(dir, 'vendor.csv');
      writeFileSync(vendorFile, text);
      const staged = await receiveImport({ pool, keyring, tenantId: tenant, source: [Buffer.from(text)] });
      if (staged.outcome !== 'staged') throw new Error(`import: ${staged.outcome}`);
      await loadImport(pool, staged.importId);
      const iccids = (await pool.query<{ iccid: string }>('SELECT iccid FROM sims ORDER BY iccid')).rows.map((r) => r.iccid);
      writeFileSync(join(dir, 'vendor-ca.json'), JSON.stringify(vendorCaToPem(createVendorCa({ random: randomBytes, now: new Date() }))));

      // The SMSC in a process of its own, as the operator's SMSC is another system.
      const smsc = spawn(process.execPath, [...inheritedNodeFlags(), SIMCHAIN, 'sim', 'smsc', '--port', '0', '--window', '1000', '--account', 'operator:op:operator', '--account', 'fleet:fleet:network'],
        { stdio: ['ignore', 'pipe', 'inherit'] });
      const smscExit = new Promise<void>((resolve) => smsc.once('exit', () => resolve()));
      cleanups.push(async () => {
        if (smsc.exitCode === null) smsc.kill('SIGTERM');
        await smscExit;
      });
      const port = await new Promise<number>((resolve, reject) => {
        createInterface({ input: smsc.stdout! }).once('line', (line) => resolve((JSON.parse(line) as { port: number }).port));
        void smscExit.then(() => reject(new Error('the SMSC exited before it was ready')));
      });

      const fleet = spawn(process.execPath, [...inheritedNodeFlags(), ...(process.env.OTA_BENCH_FLEET_NODE_ARGS?.split(' ').filter(Boolean) ?? []), SIMCHAIN, 'sim', 'fleet', '--smsc', `127.0.0.1:${port}`, '--vendor-file', vendorFile,
        '--vendor-ca', join(dir, 'vendor-ca.json'), '--dir', join(dir, 'cards')], { stdio: ['ignore', 'pipe', 'inherit'] });
      const fleetExit = new Promise<void>((resolve) => fleet.once('exit', () => resolve()));
      cleanups.push(async () => {
        if (fleet.exitCode === null) fleet.kill('SIGTERM');
        await fleetExit;
      });
      await new Promise<void>((resolve, reject) => {
        createInterface({ input: fleet.stdout! }).once('line', () => resolve());
        void fleetExit.then(() => reject(new Error('the fleet exited before it was ready')));
      });

      const gateway = new OtaGateway({ pool, keyring, smpp: { host: '127.0.0.1', port, systemId: 'operator', password: 'op', window: 100 }, source: { ton: 1, npi: 1, address: '4912345' }, sweepMs: 5000 });
      gateway.on('error', (e) => console.error('gateway:', e));
      await gateway.start();
      cleanups.push(() => gateway.stop());

      const round = async (): Promise<{ rate: number; ok: number }> => {
        const pending = new Set<string>();
        let ok = 0;
        let resolveAll!: () => void;
        const all = new Promise<void>((r) => (resolveAll = r));
        const onSettled = (s: OtaSettled) => {
          if (!pending.delete(s.id)) return;
          if (s.state === 'por-received') ok++;
          if (pending.size === 0) resolveAll();
        };
        gateway.on('settled', onSettled);
        const start = process.hrtime.bigint();
        for (let i = 0; i < iccids.length; i += 500) {
          for (const id of await gateway.send(iccids.slice(i, i + 500).map((iccid) => ({ iccid, commands: [getStatusApdu()] })))) pending.add(id);
        }
        await all;
        const seconds = Number(process.hrtime.bigint() - start) / 1e9;
        gateway.off('settled', onSettled);
        return { rate: iccids.length / seconds, ok };
      };

      const warm = await round();
      console.log(`  warm-up (personalises ${CARDS.toLocaleString('en-US')} cards in the fleet): ${fmtRate(warm.rate)}`);
      const rates: number[] = [];
      const cpuBefore = { main: process.cpuUsage(), fleet: cpuSecondsOf(fleet.pid!), smsc: cpuSecondsOf(smsc.pid!) };
      for (let r = 0; r < ROUNDS; r++) {
        const { rate, ok } = await round();
        if (ok !== CARDS) throw new Error(`round ${r + 1}: ${ok} of ${CARDS} PoRs verified`);
        rates.push(rate);
      }
      const cpu = {
        main: (process.cpuUsage(cpuBefore.main).user + process.cpuUsage(cpuBefore.main).system) / 1e6,
        fleet: cpuSecondsOf(fleet.pid!) - cpuBefore.fleet,
        smsc: cpuSecondsOf(smsc.pid!) - cpuBefore.smsc,
      };
      const recorded = (await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ota_messages WHERE state = 'por-received' AND por_cc_valid`)).rows[0]!.n;

      // Baseline: the fleet gone, no receipts; the same bind, the same window.
      fleet.kill('SIGTERM');
      await fleetExit;
      const ud = Buffer.from('027000' + '00'.repeat(60), 'hex');
      const raw: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        const start = process.hrtime.bigint();
        const n = 20_000;
        let sent = 0;
        await Promise.all(Array.from({ length: 100 }, async () => {
          while (sent < n) {
            sent++;
            await gateway.esme.submit(otaSubmitFields(ud, { source: { ton: 1, npi: 1, address: '4912345' }, msisdn: '+447700000001', registeredDelivery: false }));
          }
        }));
        raw.push(n / (Number(process.hrtime.bigint() - start) / 1e9));
      }
      const ota = median(rates);
      const base = median(raw);
      console.log(`  OTA round trips, verified and recorded: ${fmtRate(ota)} (rounds ${rates.map((x) => Math.round(x)).join(', ')}; ${recorded.toLocaleString('en-US')} rows por-received with a valid CC)`);
      const per = (seconds: number) => `${Math.round((seconds / (ROUNDS * CARDS)) * 1e6)} µs`;
      console.log(`  CPU per round trip: backend ${per(cpu.main)}, SMSC ${per(cpu.smsc)}, fleet ${per(cpu.fleet)} (PostgreSQL not counted)`);
      console.log(`  raw submit_sm, same bind, no cards:     ${fmtRate(base)} (rounds ${raw.map((x) => Math.round(x)).join(', ')})`);
      console.log(`  ratio ${(ota / base).toFixed(3)} (one round trip is ~10 SMPP PDUs, 2 AES packets each way, a card, 4 batched row writes); goal ≥ 2,000/s`);
    } finally {
      for (const c of cleanups.reverse()) await c().catch(() => undefined);
      await withAdmin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
