/**
 * `simchain demo`: the whole path at scale, then proven from outside. In a home of its own
 * it runs what `simchain start` runs (embedded PostgreSQL, anvil, the SMSC simulator, the
 * handset fleet, the API and its workers) with a fleet of --sims cards; imports their vendor
 * file, provisions them all in one batch over the API with a progress bar, and then checks
 * the outcome the way an outsider could: every SIM active by the API, every card's key (read
 * from the card with READ PUBLIC KEY, as its device would) resolves through the API to a
 * device whose Merkle proof DeviceRegistry.verify accepts on chain, every card holds its
 * identity. Prints each check and the figures; exits 0 only when every check holds.
 */
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { JsonRpcProvider } from 'ethers';
import { DeviceRegistry__factory } from '../contracts/index.js';
import { createLogger, loadConfig, startBackend, type Backend, type Config } from '../provisioning-api/index.js';
import {
  addressOf,
  DATA_TAG,
  encodeCommandApdu,
  getDataApdu,
  parseKeyTemplate,
  readPublicKeyApdu,
  toHex,
  transmitWithResponse,
} from '../sim-applet/index.js';
import { CliError, UsageError } from './cli-io.js';
import { BatchProgressBar, type BatchView } from './demo-progress.js';
import { ensureInventory } from './embedded-inventory.js';
import { startEmbeddedNetwork, type EmbeddedNetwork } from './embedded-network.js';
import { chainFor, otaSettings } from './serve.js';
import { explainStartupError } from './cli-runtime.js';
import type { Subcommand } from './subcommand.js';

/** Devices checked at once: enough to keep the API and the node busy, few enough to be polite. */
const CONCURRENCY = 32;
/** SIMs per page of GET /v1/sims (the API's maximum). */
const PAGE = 1000;
/** Key slot of the chain key (provisioning-api/provisioning/attest.ts). */
const CHAIN_KEY_SLOT = 1;

interface Options {
  sims: number;
  home: string | null;
  keep: boolean;
}

function options(argv: string[]): Options {
  let values: { sims?: string; home?: string; keep?: boolean };
  try {
    ({ values } = parseArgs({ args: argv, options: { sims: { type: 'string' }, home: { type: 'string' }, keep: { type: 'boolean' } }, strict: true, allowPositionals: false }));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const sims = values.sims === undefined ? 10_000 : Number(values.sims);
  if (!Number.isSafeInteger(sims) || sims < 1 || sims > 2_000_000) throw new UsageError('--sims must be an integer from 1 to 2,000,000');
  return { sims, home: values.home ?? null, keep: values.keep === true };
}

/** A home of its own: the given one (which must be empty or new), or a temporary one. */
function demoHome(o: Options): string {
  if (o.home === null) {
    const home = mkdtempSync(join(tmpdir(), 'simchain-demo-'));
    // The embedded PostgreSQL runs as the postgres user when this runs as root: it must reach its data.
    chmodSync(home, 0o755);
    return home;
  }
  const home = resolve(o.home);
  mkdirSync(home, { recursive: true });
  if (readdirSync(home).length > 0) throw new CliError(`--home ${o.home} is not empty: the demo needs a home of its own`);
  return home;
}

/** The configuration of `simchain start` on that home, but nothing external and no rate limit to trip. */
function demoConfig(home: string): Config {
  const env: NodeJS.ProcessEnv = { ...process.env, SIMCHAIN_HOME: home, HOST: '127.0.0.1', PORT: '0' };
  for (const name of ['DATABASE_URL', 'CHAIN_RPC_URL', 'CHAIN_SIGNER_KEY', 'SMPP_URL']) delete env[name];
  return { ...loadConfig(env), rateLimitPerMinute: 100_000_000, logLevel: process.env.LOG_LEVEL?.trim() || 'error' };
}

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const rate = (count: number, seconds: number) => (seconds > 0 ? `${fmt(count / seconds)} SIMs/s` : '-');
const secondsBetween = (a: string | null, b: string | null) => (a && b ? (Date.parse(b) - Date.parse(a)) / 1000 : 0);

class Api {
  constructor(readonly url: string, private readonly key: string) {}

  async call<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: (text === '' ? null : JSON.parse(text)) as T };
  }

  async get<T = any>(path: string): Promise<T> {
    const r = await this.call<T>('GET', path);
    if (r.status !== 200) throw new CliError(`GET ${path}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }
}

/** Run `fn` over `items`, `limit` at a time. */
async function eachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

interface Check {
  ok: boolean;
  text: string;
}

class Aborted extends Error {}

export async function runDemo(o: Options): Promise<number> {
  const home = demoHome(o);
  const config = demoConfig(home);
  const log = createLogger({ level: config.logLevel, stderr: true });
  const out = (line = '') => process.stdout.write(line + '\n');
  const note = (line: string) => process.stderr.write(line + '\n');
  let aborted = false;
  const onSignal = () => {
    aborted = true;
    note('interrupted: stopping');
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const check = () => {
    if (aborted) throw new Aborted('interrupted');
  };

  out(`simchain demo: ${fmt(o.sims)} SIMs from vendor file to verified on-chain identity, home ${home}`);
  const t0 = performance.now();
  let chain: Awaited<ReturnType<typeof chainFor>> | null = null;
  let network: EmbeddedNetwork | null = null;
  let backend: Backend | null = null;
  try {
    note('starting: embedded PostgreSQL, anvil, SMSC simulator, handset fleet, API and workers');
    chain = await chainFor(config, true, log);
    const generating = performance.now();
    const factory = new BatchProgressBar('cards', o.sims);
    network = await startEmbeddedNetwork({ home, cards: o.sims, onPersonalise: (done) => factory.count(done) });
    factory.count(network.personalised);
    factory.done();
    const generateSeconds = (performance.now() - generating) / 1000;
    let adminKey = '';
    backend = await startBackend({
      config, log, workers: true, http: true, chain: chain.settings!, ota: otaSettings(config, network.smpp),
      onAdminKey: (token) => (adminKey = token),
    }).catch(explainStartupError);
    const api = new Api(backend.httpUrl!, adminKey);
    const rpcUrl = chain.settings!.rpcUrl;
    out(`  API ${api.url}, chain ${rpcUrl}, SMSC smpp://${network.smpp.host}:${network.smpp.port}, ${fmt(network.fleet.size)} cards (ready in ${fmt((performance.now() - t0) / 1000, 1)} s)`);
    check();

    // 1. The vendor file into the inventory, with its vendor CA.
    const importBar = new BatchProgressBar('import', o.sims);
    const inventory = await ensureInventory(backend, network.vendorFile, network.vendorCaPem, (rows) => importBar.rows(rows));
    importBar.done();
    const ca = await api.call('GET', `/v1/sim-imports/${inventory.importId}/vendor-ca`);
    if (ca.status !== 200) throw new CliError(`the import has no vendor CA: ${ca.status}`);
    check();

    // 2. One provisioning batch of the whole import, over the API.
    const created = await api.call<BatchView>('POST', '/v1/provisioning-batches', { importId: inventory.importId });
    if (created.status !== 202) throw new CliError(`POST /v1/provisioning-batches: ${created.status} ${JSON.stringify(created.body)}`);
    const batchId = created.body.id;
    const bar = new BatchProgressBar('provision', created.body.simCount);
    let batch: BatchView;
    for (;;) {
      check();
      batch = await api.get<BatchView>(`/v1/provisioning-batches/${batchId}`);
      bar.batch(batch);
      if (batch.state === 'completed' || batch.state === 'failed') break;
      await new Promise((r) => setTimeout(r, 250));
    }
    bar.done();

    // 3. The proof, from outside the backend: the API, the cards, the chain.
    const proving = performance.now();
    const provider = new JsonRpcProvider(rpcUrl, undefined, { staticNetwork: true, batchMaxCount: 1 });
    const registry = DeviceRegistry__factory.connect(batch.chain.registry!, provider);
    const checks: Check[] = [];
    const failures = batch.counts.failed + batch.counts['push-failed'];
    checks.push({
      ok: batch.state === 'completed' && batch.counts.done === o.sims && failures === 0,
      text: `batch ${batchId} ${batch.state}: ${fmt(batch.counts.done)} done, ${fmt(failures)} failed${batch.failures[0] ? ` (first: ${batch.failures[0].iccid} ${batch.failures[0].code} ${batch.failures[0].reason})` : ''}`,
    });
    const onChain = await registry.batch(batch.chain.batchId);
    checks.push({
      ok: onChain.root === batch.chain.merkleRoot && Number(onChain.leafCount) === batch.chain.leafCount && batch.chain.leafCount === o.sims,
      text: `one Merkle root anchored for the batch: ${batch.chain.merkleRoot} over ${fmt(Number(onChain.leafCount))} devices, transaction ${batch.chain.transactionHash}`,
    });

    let active = 0;
    let verified = 0;
    let carded = 0;
    const problems: string[] = [];
    const problem = (text: string) => {
      if (problems.length < 5) problems.push(text);
    };
    const cardBar = new BatchProgressBar('verify', o.sims);
    const chainId = BigInt(batch.chain.chainId!);
    const registryHex = batch.chain.registry!.slice(2).toLowerCase();
    const batchHex = batch.chain.batchId.slice(2).toLowerCase();
    let cursor: string | null = null;
    do {
      check();
      const page: { items: { iccid: string; msisdn: string; state: string }[]; nextCursor: string | null } = await api.get(
        `/v1/sims?importId=${inventory.importId}&state=active&limit=${PAGE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      active += page.items.length;
      await eachLimited(page.items, CONCURRENCY, async (sim) => {
        // The device's key as its firmware reads it from the card: plain READ PUBLIC KEY.
        const card = await network!.fleet.cards.get(sim.msisdn.replace('+', ''));
        if (!card) return problem(`${sim.iccid}: no card in the fleet`);
        const transmit = (c: Uint8Array) => card.transmit(c);
        const key = transmitWithResponse(transmit, encodeCommandApdu(readPublicKeyApdu(CHAIN_KEY_SLOT)));
        if (key.sw !== 0x9000) return problem(`${sim.iccid}: READ PUBLIC KEY answered ${key.sw.toString(16)}`);
        const address = addressOf(parseKeyTemplate(key.data).publicKey);
        const identity = (tag: number) => {
          const r = transmitWithResponse(transmit, encodeCommandApdu(getDataApdu(0, tag)));
          return r.sw === 0x9000 ? toHex(r.data).toLowerCase() : null;
        };
        const cardChainId = identity(DATA_TAG.CHAIN_ID);
        if (cardChainId !== null && BigInt(`0x${cardChainId}`) === chainId && identity(DATA_TAG.REGISTRY) === registryHex && identity(DATA_TAG.BATCH_ID) === batchHex) carded++;
        else problem(`${sim.iccid}: the card does not hold its identity`);
        // The binding by the API, checked on chain with its proof.
        const device = await api.call(`GET`, `/v1/devices/${address}`);
        if (device.status !== 200) return problem(`${sim.iccid}: GET /v1/devices/${address} answered ${device.status}`);
        const d = device.body;
        if (d.iccid !== sim.iccid) return problem(`${sim.iccid}: the card's key belongs to ${d.iccid} by the API`);
        if (await registry.verify(d.batch.chainBatchId, address, d.imsiCommitment, d.proof)) verified++;
        else problem(`${sim.iccid}: DeviceRegistry.verify refused ${address}`);
        cardBar.count(verified);
      });
      cursor = page.nextCursor;
    } while (cursor !== null);
    cardBar.done();
    check();
    const proveSeconds = (performance.now() - proving) / 1000;
    checks.push({ ok: active === o.sims, text: `every SIM active: ${fmt(active)} of ${fmt(o.sims)} (GET /v1/sims?state=active)` });
    checks.push({ ok: verified === o.sims, text: `every device verified on chain through its proof: ${fmt(verified)} of ${fmt(o.sims)} (DeviceRegistry.verify at ${batch.chain.registry})` });
    checks.push({ ok: carded === o.sims, text: `every card holds its identity (chain ${chainId}, registry, batch): ${fmt(carded)} of ${fmt(o.sims)}` });

    // 4. The figures.
    const ota = (await backend.pool.query<{ commands: number; sms: number; sends: number; por: number }>(
      `SELECT count(*)::int AS commands, coalesce(sum(cardinality(m.user_data) * m.attempts), 0)::int AS sms,
              coalesce(sum(m.attempts), 0)::int AS sends, count(*) FILTER (WHERE m.state = 'por-received')::int AS por
         FROM ota_messages m JOIN sims s USING (iccid) WHERE s.import_id = $1`, [inventory.importId])).rows[0]!;
    const receipt = batch.chain.transactionHash ? await provider.getTransactionReceipt(batch.chain.transactionHash) : null;
    const gas = Number(receipt?.gasUsed ?? batch.chain.gasUsed ?? 0);
    const keygenS = secondsBetween(batch.createdAt, batch.keygenFinishedAt);
    const anchorS = secondsBetween(batch.keygenFinishedAt, batch.anchoredAt);
    const identityS = secondsBetween(batch.anchoredAt, batch.completedAt);
    const provisionS = secondsBetween(batch.createdAt, batch.completedAt);
    const smsc = network.smsc.stats;

    out('');
    out('proof');
    for (const c of checks) out(`  ${c.ok ? 'ok  ' : 'FAIL'}  ${c.text}`);
    for (const p of problems) out(`        ${p}`);
    out('');
    out('figures');
    out(`  cards             ${fmt(network.personalised)} personalised and their vendor file written in ${fmt(generateSeconds, 1)} s (the vendor's factory, before the clock below)`);
    out(`  import            ${fmt(inventory.seconds, 2)} s, ${rate(o.sims, inventory.seconds)} (keys sealed, COPY into the inventory)`);
    out(`  key generation    ${fmt(keygenS, 1)} s, ${rate(o.sims, keygenS)} (GENERATE KEY PAIR over OTA, PoR, attestation)`);
    out(`  anchoring         ${fmt(anchorS, 1)} s, 1 transaction, gas ${fmt(gas)} (${fmt(gas / o.sims, 1)} gas per SIM)`);
    out(`  identity push     ${fmt(identityS, 1)} s, ${rate(o.sims, identityS)} (STORE DATA over OTA, PoR)`);
    out(`  provisioning      ${fmt(provisionS, 1)} s, ${rate(o.sims, provisionS)} (batch created to completed)`);
    out(`  overall           ${fmt(inventory.seconds + provisionS, 1)} s, ${rate(o.sims, inventory.seconds + provisionS)} (import and provisioning)`);
    out(`  OTA               ${fmt(ota.commands)} commands (${fmt(ota.por)} with a verified PoR), ${fmt(ota.sends)} sends, ${fmt(ota.sms)} SMS MT`);
    out(`  SMSC              ${fmt(smsc.mtTaken)} MT taken, ${fmt(smsc.mtDelivered)} delivered, ${fmt(smsc.receipts)} receipts, ${fmt(smsc.mo)} MO SMS (the PoRs, concatenated when long)`);
    out(`  failures          ${fmt(failures)}`);
    out(`  proof             ${fmt(proveSeconds, 1)} s for ${fmt(o.sims)} devices (${CONCURRENCY} at a time)`);
    out(`  peak RSS          ${fmt(process.resourceUsage().maxRSS / 1024)} MB (this process: API, workers, SMSC, fleet)`);
    out(`  total             ${fmt((performance.now() - t0) / 1000, 1)} s`);
    const ok = checks.every((c) => c.ok);
    out('');
    out(ok ? 'demo: every check holds' : 'demo: some checks failed');
    if (o.keep || o.home !== null) out(`home kept: ${home} (SIMCHAIN_HOME=${home} simchain start resumes it)`);
    return ok ? 0 : 1;
  } catch (e) {
    if (e instanceof Aborted) return 130;
    throw e;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await backend?.stop();
    await network?.stop();
    await chain?.stop();
    if (!o.keep && o.home === null) rmSync(home, { recursive: true, force: true });
  }
}

export const command: Subcommand = {
  name: 'demo',
  summary: 'provision 10,000 SIMs end to end on embedded defaults, then prove the result on chain',
  help: `usage: simchain demo [--sims N] [--home DIR] [--keep]

Runs everything simchain start runs, in a home of its own: an embedded PostgreSQL, anvil with
the DeviceRegistry, the SMSC simulator and a handset fleet of N cards (default 10,000) from a
generated vendor file. Imports the file, configures its vendor CA, provisions every SIM in
one batch over the API (GENERATE KEY PAIR over OTA, PoR, attestation, one Merkle root
anchored on chain, STORE DATA of the identity) with a progress bar on stderr, then proves
the result:
  - every SIM is active (GET /v1/sims?state=active);
  - every card's key (READ PUBLIC KEY on the card) is a device whose binding, fetched with
    GET /v1/devices/{address}, verifies on chain with DeviceRegistry.verify and its proof;
  - every card holds its identity (chain id, registry, batch id);
and prints the figures: SIMs/s per phase, the anchoring gas, OTA commands and SMS, failures.
DATABASE_URL, CHAIN_RPC_URL and SMPP_URL are ignored: the demo uses nothing of yours.

  --sims N      cards to provision (default 10000)
  --home DIR    an empty or new directory to run in, kept afterwards (default: a temporary
                one, removed at the end)
  --keep        keep the temporary home for inspection

Exit status: 0 when every check holds, 1 otherwise, 130 when interrupted.
`,
  run: (argv) => runDemo(options(argv)),
};
