/** `simchain migrate`: apply the schema migrations (and pg-boss's), bootstrap a fresh install. */
import { startBackend } from '../provisioning-api/runtime/backend.js';
import { UsageError } from './cli-io.js';
import { cliConfig, cliLogger, explainStartupError, showAdminKey } from './cli-runtime.js';
import type { Subcommand } from './subcommand.js';

export const command: Subcommand = {
  name: 'migrate',
  summary: 'apply database migrations; on a fresh install, create the admin API key',
  help: `usage: simchain migrate

Applies the SQL migrations in migrations/ and the job queue's schema to DATABASE_URL (or
the embedded database under SIMCHAIN_HOME). On a fresh install it also creates the
operator tenant and its first operator-admin API key, printed once and saved in
$SIMCHAIN_HOME/admin.key (mode 0600).
`,
  async run(argv) {
    if (argv.length > 0) throw new UsageError(`unexpected argument '${argv[0]}'`);
    const config = cliConfig();
    const log = cliLogger('info');
    const backend = await startBackend({ config, log, onAdminKey: showAdminKey }).catch(explainStartupError);
    await backend.stop();
    process.stdout.write('migrations up to date\n');
    return 0;
  },
};
