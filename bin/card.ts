/**
 * `simchain card new` and `simchain card apdu CARD.json` (DESIGN.md §6): make a card from a
 * vendor inventory row, and drive it with C-APDUs as a handset's modem would. Engineers
 * replay traces with it; outside checks drive the card model through it.
 */
import { randomBytes } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import {
  CARD_FORMAT,
  createVendorCa,
  fromHex,
  loadVendorCa,
  personaliseCard,
  toHex,
  Uicc,
  type CardSnapshot,
} from '../sim-applet/index.js';
import { CliError, readJsonObject, readStdin, UsageError, writeJson } from './cli-io.js';
import type { Subcommand } from './subcommand.js';

async function newCard(argv: string[]): Promise<number> {
  if (argv.length > 0) throw new UsageError(`unexpected argument '${argv[0]}'`);
  const row = await readJsonObject('an inventory row');
  const { vendorCa, ...fields } = row;
  let ca;
  if (vendorCa === undefined) {
    ca = createVendorCa({ random: randomBytes, now: new Date() });
  } else {
    const v = vendorCa as Record<string, unknown> | null;
    if (!v || typeof v.key !== 'string' || typeof v.certificate !== 'string') {
      throw new CliError('vendorCa must be {"key": PEM private key, "certificate": PEM certificate}');
    }
    ca = loadVendorCa({ key: v.key, certificate: v.certificate });
  }
  writeJson(personaliseCard(fields, { vendorCa: ca, random: randomBytes, now: new Date() }));
  return 0;
}

async function loadCard(path: string): Promise<CardSnapshot> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new CliError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let state: unknown;
  try {
    state = JSON.parse(text);
  } catch {
    throw new CliError(`${path} is not JSON`);
  }
  if (!state || typeof state !== 'object' || (state as { format?: unknown }).format !== CARD_FORMAT) {
    throw new CliError(`${path} is not a card state (format ${CARD_FORMAT}); make one with simchain card new`);
  }
  return state as CardSnapshot;
}

async function apdu(argv: string[]): Promise<number> {
  const reset = argv.includes('--reset');
  const paths = argv.filter((a) => a !== '--reset');
  if (paths.length !== 1) throw new UsageError('usage: simchain card apdu [--reset] CARD.json < apdus.hex');
  const path = paths[0]!;
  const card = new Uicc(await loadCard(path), { random: randomBytes });
  // Every line is checked before the first reaches the card: bad input changes nothing.
  const commands = (await readStdin())
    .split('\n')
    .map((line, i) => ({ line: i + 1, text: line.replace(/#.*/, '').replace(/\s+/g, '') }))
    .filter((l) => l.text !== '')
    .map((l) => {
      try {
        const bytes = fromHex(l.text, `line ${l.line}`);
        if (bytes.length < 4) throw new CliError(`line ${l.line}: a C-APDU has at least 4 bytes`);
        return bytes;
      } catch (e) {
        if (e instanceof CliError) throw e;
        throw new CliError(`line ${l.line}: not hex`);
      }
    });
  if (reset) card.reset();
  const out: string[] = [];
  for (const c of commands) out.push(toHex(card.transmit(c)));
  // Write-then-rename: a crash never leaves half a card. 0600: the state holds the card's private keys.
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(card.snapshot(), null, 2) + '\n', { mode: 0o600 });
  await rename(tmp, path);
  if (out.length > 0) process.stdout.write(out.join('\n') + '\n');
  return 0;
}

const HELP = `simchain card new | apdu: the simulated UICC with the simchain applet

simchain card new < row.json > card.json
  Personalise a card from one vendor inventory row, as the card factory does:
    {"iccid": "8988211000000467285", "imsi": "262011234567890", "msisdn": "+491701234567",
     "tar": "bfff01",
     "keysets": [{"index": 1, "kic": "hex", "kid": "hex", "kik": "hex",
                  "kicAlg": "des|3des2|3des3|aes", "kidAlg": "des|3des2|3des3|aes"}],
     "vendorCa": {"key": "-----BEGIN PRIVATE KEY-----...", "certificate": "-----BEGIN CERTIFICATE-----..."}}
  vendorCa (an EC P-256 CA) is optional; without it a CA is generated for this card alone.
  "kikAlg" may be given per keyset (default: kicAlg). Writes the card's state as JSON: its
  keys, counters, lifecycle and attestation certificate (keep it private: it holds the
  card's secrets).

simchain card apdu [--reset] CARD.json < apdus.hex
  Send hex C-APDUs, one per line (blank lines and # comments ignored), to the card stored
  in CARD.json; print each hex R-APDU (response data then status word) on its own line;
  save the card's new state back to CARD.json. The card's RAM (selected application,
  response data waiting for GET RESPONSE, pending proactive commands, SMS parts) is kept
  in the file between runs, like one session; --reset powers the card off and on first.

  An ENVELOPE SMS-PP download (80C20000..) answered with 61xx (9Fxx for class A0) holds
  the PoR for GET RESPONSE (00C00000xx); answered with 91xx, the PoR goes by SMS-SUBMIT:
  FETCH (80120000xx) returns a SEND SHORT MESSAGE command, TERMINAL RESPONSE (80140000..)
  acknowledges it. The applet (AID f0534d4348414e0101, selected by default) answers its
  instructions on class 80; see README.md for the instruction table.
`;

export const command: Subcommand = {
  name: 'card',
  summary: 'simulated UICC: new (personalise from an inventory row), apdu (send C-APDUs)',
  help: HELP,
  async run(argv) {
    const [verb, ...rest] = argv;
    if (verb === 'new') return newCard(rest);
    if (verb === 'apdu') return apdu(rest);
    throw new UsageError(`simchain card needs new or apdu${verb ? `, not '${verb}'` : ''}`);
  },
};
