/**
 * `simchain start` (npm start): everything on embedded defaults, state under SIMCHAIN_HOME.
 * The embedded PostgreSQL, the embedded chain (anvil, DeviceRegistry deployed, its events
 * indexed), the SMSC simulator and a handset fleet whose vendor file is imported with its
 * vendor CA (bin/embedded-network.ts, bin/embedded-inventory.ts), the API and its workers.
 */
import { serveUntilSignal } from './serve.js';
import type { Subcommand } from './subcommand.js';

export const command: Subcommand = {
  name: 'start',
  summary: 'start everything on embedded defaults (state under SIMCHAIN_HOME)',
  help: `usage: simchain start

Starts the platform with nothing installed:
  - an embedded PostgreSQL (unless DATABASE_URL is set);
  - an embedded chain: anvil with the DeviceRegistry deployed (unless CHAIN_RPC_URL and
    CHAIN_SIGNER_KEY are set);
  - the SMSC simulator on a free loopback port and a handset fleet bound to it, with cards
    personalised from a vendor file generated once (SIMCHAIN_FLEET_SIZE cards, default
    1,000); the file is imported into the inventory and its vendor CA configured, so the
    cards can be provisioned at once (unless SMPP_URL is set: then OTA goes to that SMSC and
    no simulator runs);
  - the provisioning API on 127.0.0.1:PORT (default 3000, OpenAPI at /docs) and its workers.
GET /healthz answers 200 once the API, the database, the chain and the SMSC bind are ready
and the fleet's inventory is imported. It then prints the URLs, the chain, the SMSC, the
fleet's import id and three commands to try next.

All state lives under SIMCHAIN_HOME (default .simchain): postgres/, chain/, admin.key,
master.key, smsc.json (the SMSC accounts, generated), inventory/vendor.csv and
vendor-ca.json, fleet/ (the cards' state). Starting again with the same home resumes: the
same data, chain, SMSC accounts and cards; nothing is imported twice. The first start creates
the operator's admin API key, prints it once and saves it in $SIMCHAIN_HOME/admin.key
(mode 0600). Stops on SIGINT or SIGTERM.

environment: as simchain serve (see simchain serve --help), and
  SIMCHAIN_FLEET_SIZE   cards in the fleet a new home gets (default 1000)
`,
  run: (argv) => serveUntilSignal(argv, 'start'),
};
