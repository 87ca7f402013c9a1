/**
 * `simchain start` (npm start): everything on embedded defaults, state under SIMCHAIN_HOME.
 * The embedded PostgreSQL, the embedded chain (anvil, DeviceRegistry deployed, its events
 * indexed), the API and its workers; the SMSC and the handset fleet join with issue 7.
 */
import { serveUntilSignal } from './serve.js';
import type { Subcommand } from './subcommand.js';

export const command: Subcommand = {
  name: 'start',
  summary: 'start everything on embedded defaults (state under SIMCHAIN_HOME)',
  help: `usage: simchain start

Starts the platform with nothing installed: an embedded PostgreSQL (unless DATABASE_URL is
set), an embedded chain (anvil with the DeviceRegistry deployed, unless CHAIN_RPC_URL and
CHAIN_SIGNER_KEY are set), the provisioning API on 127.0.0.1:PORT (default 3000) and its
job workers. GET /healthz answers 200 once the API, the database and the chain are ready. All state
lives under SIMCHAIN_HOME (default .simchain); starting again with the same home resumes.
The first start creates the operator's admin API key, prints it once and saves it in
$SIMCHAIN_HOME/admin.key (mode 0600). Stops on SIGINT or SIGTERM.
`,
  run: (argv) => serveUntilSignal(argv, 'start'),
};
