/**
 * The radio network that `simchain start` and `simchain demo` run in-process when no SMSC is
 * configured (DESIGN.md §5, embedded defaults): the SMSC simulator on a free loopback port and
 * a handset fleet bound to it as its network, each handset hosting a card personalised from
 * a vendor file generated once under $SIMCHAIN_HOME/inventory, the file the operator imports.
 *
 * Everything it needs is kept under the home so a second start finds the same network:
 *   smsc.json                 the SMSC accounts (operator and fleet) with generated passwords, 0600
 *   inventory/vendor.csv      the card vendor's file, generated once
 *   inventory/vendor-ca.json  the vendor CA (key and certificate, PEM), 0600
 *   fleet/cards.log           the cards' persistent state (simulators/fleet/card-store.ts)
 * The SMSC itself keeps nothing: what it held when it stopped is lost, as an SMS is when a
 * real SMSC loses it, and the backend's missing-PoR retries recover.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { SmppSettings } from '../provisioning-api/index.js';
import { createVendorCa, inventory, issueDerivedCardCertificate, loadVendorCa, vendorCaToPem, type VendorCa } from '../sim-applet/index.js';
import { Fleet } from '../simulators/fleet/index.js';
import { SmscSimulator } from '../simulators/smsc/index.js';
import { CliError } from './cli-io.js';

/** The simchain applet's TAR on the generated cards. */
const APPLET_TAR = 'bfff01';
/** The first card's serial in the generated vendor file. */
const FIRST_SERIAL = 1;

export interface EmbeddedNetworkOptions {
  home: string;
  /** Cards in the vendor file when it is generated; an existing file is kept as it is. */
  cards: number;
  /** Progress of the cards' personalisation (the factory's part), when there is any. */
  onPersonalise?: (done: number, total: number) => void;
}

export interface EmbeddedNetwork {
  smsc: SmscSimulator;
  fleet: Fleet;
  /** How the backend binds to the SMSC (its operator account). */
  smpp: SmppSettings;
  /** Where the operator's credentials are kept. */
  accountsFile: string;
  vendorFile: string;
  vendorCa: VendorCa;
  /** PEM of the vendor CA certificate: what the operator configures for the import. */
  vendorCaPem: string;
  /** True when this start generated the vendor file. */
  generated: boolean;
  /** Cards this start personalised (the factory's work, done once). */
  personalised: number;
  stop(): Promise<void>;
}

interface Account {
  systemId: string;
  password: string;
}

interface Accounts {
  operator: Account;
  network: Account;
}

function readJson(path: string, what: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new CliError(`cannot read ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** Write a file whole or not at all: a crash mid-write must not leave half a file to reuse. */
function writeOnce(path: string, text: string, mode = 0o644): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, text, { mode });
  renameSync(tmp, path);
}

function accountsAt(path: string): Accounts {
  if (!existsSync(path)) {
    const accounts: Accounts = {
      operator: { systemId: 'simchain', password: randomBytes(12).toString('base64url') },
      network: { systemId: 'fleet', password: randomBytes(12).toString('base64url') },
    };
    writeOnce(path, JSON.stringify(accounts, null, 2) + '\n', 0o600);
    return accounts;
  }
  const a = readJson(path, 'SMSC accounts') as Partial<Accounts>;
  const valid = (x: Partial<Account> | undefined): x is Account => typeof x?.systemId === 'string' && typeof x.password === 'string';
  if (!valid(a.operator) || !valid(a.network)) throw new CliError(`${path} must be {"operator": {"systemId","password"}, "network": {...}}`);
  return a as Accounts;
}

function vendorCaAt(path: string): VendorCa {
  if (!existsSync(path)) {
    const ca = createVendorCa({ random: randomBytes, now: new Date() });
    writeOnce(path, JSON.stringify(vendorCaToPem(ca)) + '\n', 0o600);
    return ca;
  }
  const pem = readJson(path, 'vendor CA') as { key?: unknown; certificate?: unknown };
  if (typeof pem.key !== 'string' || typeof pem.certificate !== 'string') throw new CliError(`${path} must be {"key": PEM, "certificate": PEM}`);
  return loadVendorCa({ key: pem.key, certificate: pem.certificate });
}

/** Generate the vendor file, streamed (a fleet of millions is never one string). */
async function generateVendorFile(path: string, cards: number, vendorCa: VendorCa): Promise<void> {
  const tmp = `${path}.tmp`;
  const issuedAt = new Date();
  // As a card factory's output file does (GSMA SGP.02's EIS): each card's attestation
  // certificate, so the operator need not have the card send it over the air.
  const lines = inventory.generateVendorFile({
    format: 'csv', count: cards, random: randomBytes, tar: APPLET_TAR, firstSerial: FIRST_SERIAL,
    certificate: (iccid) => issueDerivedCardCertificate({ iccid, ca: vendorCa, now: issuedAt, fastSignature: true }).certificate,
  });
  await pipeline(Readable.from((function* () {
    for (const line of lines) yield line + '\n';
  })()), createWriteStream(tmp));
  renameSync(tmp, path);
}

export async function startEmbeddedNetwork(options: EmbeddedNetworkOptions): Promise<EmbeddedNetwork> {
  const { home } = options;
  const dir = join(home, 'inventory');
  mkdirSync(dir, { recursive: true });
  const accountsFile = join(home, 'smsc.json');
  const accounts = accountsAt(accountsFile);
  const vendorCa = vendorCaAt(join(dir, 'vendor-ca.json'));
  const vendorFile = join(dir, 'vendor.csv');
  const generated = !existsSync(vendorFile);
  if (generated) await generateVendorFile(vendorFile, options.cards, vendorCa);

  const smsc = new SmscSimulator({
    accounts: [
      { ...accounts.operator, role: 'operator' },
      { ...accounts.network, role: 'network' },
    ],
    host: '127.0.0.1',
    port: 0,
    // Handsets here are always on: a short first pause keeps a lost SMS cheap.
    retry: { initialMs: 200, maxMs: 10_000 },
  });
  const { host, port } = await smsc.start();
  let fleet: Fleet;
  try {
    fleet = await Fleet.start({
      smsc: { host, port, ...accounts.network, reconnect: { initialMs: 50, maxMs: 2000 } },
      vendorFile,
      vendorCa,
      dir: join(home, 'fleet'),
      // Every card of the demo's largest fleet held in memory: reloading one costs a JSON parse.
      maxLive: Math.max(10_000, options.cards),
    });
  } catch (e) {
    await smsc.stop();
    throw e;
  }
  // The cards exist before the operator gets their file, as they leave the vendor's factory
  // personalised: a card never personalised here would otherwise be, on its first SMS, and
  // that cost (an attestation key and certificate each) would count against provisioning.
  let personalised: number;
  try {
    personalised = await fleet.cards.personaliseAll(options.onPersonalise);
  } catch (e) {
    await fleet.stop();
    await smsc.stop();
    throw e;
  }
  return {
    smsc,
    fleet,
    smpp: { host, port, ...accounts.operator, tls: false },
    accountsFile,
    vendorFile,
    vendorCa,
    vendorCaPem: vendorCaToPem(vendorCa).certificate,
    generated,
    personalised,
    async stop() {
      // The fleet first: its MO in flight still reach the SMSC.
      await fleet.stop();
      await smsc.stop();
    },
  };
}
