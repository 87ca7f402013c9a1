/**
 * `simchain sim smsc` and `simchain sim fleet`: the stand-ins for the network that cannot
 * exist here, each a long-running process that prints one JSON line when it is ready (its
 * address, its size) and stops cleanly on SIGINT/SIGTERM.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { createVendorCa, loadVendorCa, vendorCaToPem, type VendorCa } from '../sim-applet/index.js';
import { SmscSimulator, type SmscAccount } from '../simulators/smsc/index.js';
import { Fleet } from '../simulators/fleet/index.js';
import { CliError, UsageError, writeJson } from './cli-io.js';
import type { Subcommand } from './subcommand.js';

const HELP = `usage: simchain sim smsc [options]
       simchain sim fleet --smsc HOST:PORT --vendor-file FILE [options]

smsc: an SMPP 3.4 server standing in for the operator's SMSC. MT from an operator account
is routed by destination MSISDN to the network account (the fleet), stored while the handset
is absent and forwarded until its validity ends, with delivery receipts; MO from the network
goes to the operator's bind.
  --host H                 listen address (default 127.0.0.1)
  --port N                 listen port (default 2775; 0 picks a free one)
  --account ID:PASSWORD:ROLE   an account, ROLE operator or network; repeatable
                           (default operator:operator:operator and fleet:fleet:network)
  --throughput N           submit_sm per second per bind; above it ESME_RTHROTTLED
  --tls-key FILE --tls-cert FILE   speak SMPP over TLS
  --validity S             validity when submit_sm gives none (default 86400)
  --retry-ms MIN:MAX       store and forward: first and longest pause (default 1000:60000)
  --window N               deliver_sm outstanding per session (default 100)
  --join-mo                join concatenated MO into one deliver_sm (message_payload) for the
                           operator (as many SMSCs offer their ESMEs)
  --join-mo-hold-ms MS     how long parts wait for the rest before going on as they came (default 5000)
  --drop R --refuse R --delay R:MS --disconnect-after N   fault injection (rates 0..1)

fleet: handsets, each hosting a simchain card personalised from the vendor file, reached
over SMPP as the SMSC's radio network. Card states are saved under --dir.
  --smsc HOST:PORT         the SMSC (required)
  --system-id ID --password P   the network account (default fleet / fleet)
  --tls [--tls-ca FILE]    connect with TLS
  --vendor-file FILE       the card vendor's file (required; the one the operator imports)
  --vendor-ca FILE         the vendor CA as {"key","certificate"} PEM JSON; created if missing
                           (default DIR/vendor-ca.json)
  --dir DIR                card snapshots (default .simchain/fleet)
  --offline S              share of handsets offline, 0..1 (default 0)
  --offline-ms MS          offline handsets come back after MS (default never)
  --latency-ms MIN[:MAX]   air-interface latency per SMS, uniform (default 0)
  --max-live N             card objects held in memory (default 10000)
  --mo-window N             MO submit_sm outstanding (default 1000): a handset's PoR must not
                           wait behind the MT backlog the SMSC keeps pushing
  --personalise            personalise every card of the file before reporting ready (the
                           card factory's run; otherwise each card is made on its first SMS)
`;

type Values = Record<string, string | boolean | string[] | undefined>;

function args(argv: string[], options: ParseArgsConfig['options']): { values: Values } {
  try {
    return parseArgs({ args: argv, options, allowPositionals: false, strict: true }) as { values: Values };
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

function num(value: string | undefined, name: string, min = 0, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max) throw new UsageError(`--${name} must be a number in [${min}, ${max}]`);
  return n;
}

function pair(value: string | undefined, name: string): [number, number] | undefined {
  if (value === undefined) return undefined;
  const [a, b = a] = value.split(':');
  return [num(a, name)!, num(b, name)!];
}

function readFileOrFail(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new CliError(`cannot read ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
}

async function smsc(argv: string[]): Promise<number> {
  const { values: v } = args(argv, {
    host: { type: 'string' }, port: { type: 'string' }, account: { type: 'string', multiple: true }, throughput: { type: 'string' },
    'tls-key': { type: 'string' }, 'tls-cert': { type: 'string' }, validity: { type: 'string' }, 'retry-ms': { type: 'string' },
    drop: { type: 'string' }, refuse: { type: 'string' }, delay: { type: 'string' }, 'disconnect-after': { type: 'string' }, window: { type: 'string' },
    'join-mo': { type: 'boolean' }, 'join-mo-hold-ms': { type: 'string' },
  });
  const throughput = num(v.throughput as string | undefined, 'throughput', 1);
  const accounts: SmscAccount[] = ((v.account as string[] | undefined) ?? ['operator:operator:operator', 'fleet:fleet:network']).map((a) => {
    const [systemId, password, role] = a.split(':');
    if (!systemId || password === undefined || (role !== 'operator' && role !== 'network')) throw new UsageError(`--account ${a}: expected ID:PASSWORD:operator|network`);
    return { systemId, password, role, ...(throughput ? { maxPerSecond: throughput } : {}) };
  });
  if (Boolean(v['tls-key']) !== Boolean(v['tls-cert'])) throw new UsageError('--tls-key and --tls-cert go together');
  const retry = pair(v['retry-ms'] as string | undefined, 'retry-ms');
  const delay = pair(v.delay as string | undefined, 'delay');
  const sim = new SmscSimulator({
    accounts,
    host: (v.host as string | undefined) ?? '127.0.0.1',
    port: num(v.port as string | undefined, 'port', 0, 65535) ?? 2775,
    ...(v['tls-key'] ? { tls: { key: readFileOrFail(v['tls-key'] as string, 'TLS key'), cert: readFileOrFail(v['tls-cert'] as string, 'TLS certificate') } } : {}),
    ...(v.validity ? { defaultValiditySeconds: num(v.validity as string, 'validity', 1)! } : {}),
    ...(retry ? { retry: { initialMs: retry[0], maxMs: retry[1] } } : {}),
    ...(v.window ? { window: num(v.window as string, 'window', 1)! } : {}),
    ...(v['join-mo'] ? { joinMo: v['join-mo-hold-ms'] ? { holdMs: num(v['join-mo-hold-ms'] as string, 'join-mo-hold-ms', 1)! } : true } : {}),
    faults: {
      dropRate: num(v.drop as string | undefined, 'drop', 0, 1) ?? 0,
      refuseRate: num(v.refuse as string | undefined, 'refuse', 0, 1) ?? 0,
      ...(delay ? { delayRate: delay[0], delayMs: delay[1] } : {}),
      ...(v['disconnect-after'] ? { disconnectAfter: num(v['disconnect-after'] as string, 'disconnect-after', 1)! } : {}),
    },
  });
  const address = await sim.start();
  writeJson({ smsc: 'ready', host: address.host, port: address.port, tls: Boolean(v['tls-key']), accounts: accounts.map((a) => ({ systemId: a.systemId, role: a.role })) });
  await untilSignal();
  await sim.stop();
  process.stderr.write(`simchain sim smsc: stopped ${JSON.stringify(sim.stats)}\n`);
  return 0;
}

function vendorCaAt(path: string): VendorCa {
  if (!existsSync(path)) {
    const ca = createVendorCa({ random: randomBytes, now: new Date() });
    writeFileSync(path, JSON.stringify(vendorCaToPem(ca)), { mode: 0o600 });
    return ca;
  }
  let pem: { key?: unknown; certificate?: unknown };
  try {
    pem = JSON.parse(readFileOrFail(path, 'vendor CA')) as typeof pem;
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(`${path} is not JSON`);
  }
  if (typeof pem.key !== 'string' || typeof pem.certificate !== 'string') throw new CliError(`${path} must be {"key": PEM, "certificate": PEM}`);
  return loadVendorCa({ key: pem.key, certificate: pem.certificate });
}

async function fleet(argv: string[]): Promise<number> {
  const { values: v } = args(argv, {
    smsc: { type: 'string' }, 'system-id': { type: 'string' }, password: { type: 'string' }, tls: { type: 'boolean' }, 'tls-ca': { type: 'string' },
    'vendor-file': { type: 'string' }, 'vendor-ca': { type: 'string' }, dir: { type: 'string' }, offline: { type: 'string' },
    'offline-ms': { type: 'string' }, 'latency-ms': { type: 'string' }, 'max-live': { type: 'string' }, personalise: { type: 'boolean' }, 'mo-window': { type: 'string' },
  });
  const smscAt = v.smsc as string | undefined;
  const m = smscAt ? /^(.+):(\d+)$/.exec(smscAt) : null;
  if (!m) throw new UsageError('--smsc HOST:PORT is required');
  if (!v['vendor-file']) throw new UsageError('--vendor-file FILE is required');
  const dir = (v.dir as string | undefined) ?? '.simchain/fleet';
  const { mkdirSync } = await import('node:fs');
  mkdirSync(dir, { recursive: true });
  const latency = pair(v['latency-ms'] as string | undefined, 'latency-ms');
  const tls = v.tls ? { ...(v['tls-ca'] ? { ca: readFileOrFail(v['tls-ca'] as string, 'TLS CA') } : {}), servername: m[1]! } : undefined;
  const f = await Fleet.start({
    smsc: {
      host: m[1]!, port: Number(m[2]), systemId: (v['system-id'] as string | undefined) ?? 'fleet', password: (v.password as string | undefined) ?? 'fleet',
      window: num(v['mo-window'] as string | undefined, 'mo-window', 1) ?? 1000, ...(tls ? { tls } : {}),
    },
    vendorFile: v['vendor-file'] as string,
    vendorCa: vendorCaAt((v['vendor-ca'] as string | undefined) ?? `${dir}/vendor-ca.json`),
    dir,
    offlineShare: num(v.offline as string | undefined, 'offline', 0, 1) ?? 0,
    ...(v['offline-ms'] ? { offlineMs: num(v['offline-ms'] as string, 'offline-ms')! } : {}),
    ...(latency ? { latencyMs: { min: latency[0], max: latency[1] } } : {}),
    ...(v['max-live'] ? { maxLive: num(v['max-live'] as string, 'max-live', 1)! } : {}),
  });
  if (v.personalise) {
    const made = await f.cards.personaliseAll((done, total) => process.stderr.write(`simchain sim fleet: personalised ${done}/${total}\n`));
    process.stderr.write(`simchain sim fleet: personalised ${made} cards\n`);
  }
  writeJson({ fleet: 'ready', handsets: f.size, smsc: smscAt, dir });
  await untilSignal();
  await f.stop();
  process.stderr.write(`simchain sim fleet: stopped ${JSON.stringify({ ...f.stats, personalised: f.cards.personalised })}\n`);
  return 0;
}

export const command: Subcommand = {
  name: 'sim',
  summary: 'run a simulator: the SMSC (sim smsc) or the handset fleet (sim fleet)',
  help: HELP,
  async run(argv) {
    const [which, ...rest] = argv;
    if (which === 'smsc') return smsc(rest);
    if (which === 'fleet') return fleet(rest);
    throw new UsageError(`expected 'smsc' or 'fleet', got ${which === undefined ? 'nothing' : `'${which}'`}; see simchain sim --help`);
  },
};
