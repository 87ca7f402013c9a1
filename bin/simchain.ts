/**
 * The composition root: the only module that imports both the backend and the simulators.
 * Each subcommand group lives in its own file and is a thin shell over the layers.
 */
import { CliError, describeError, exitCodeOf } from './cli-io.js';
import type { Subcommand } from './subcommand.js';
import { command as ota } from './ota.js';
import { command as card } from './card.js';
import { command as otaDemo } from './ota-demo.js';
import { command as start } from './start.js';
import { command as serve } from './serve.js';
import { command as migrate } from './migrate.js';
import { command as importFile } from './import.js';
import { command as admin } from './admin.js';
import { command as sim } from './sim.js';

const commands: Subcommand[] = [ota, card, otaDemo, start, serve, migrate, importFile, admin, sim];

function usage(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'simchain: the Blockchain of Things SIM platform',
    '',
    'usage: simchain <command> [options]',
    '',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'simchain <command> --help describes a command.',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage() + '\n');
    return name === undefined ? 2 : 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) throw new CliError(`unknown command '${name}'; try simchain --help`, 2);
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(command.help.trimEnd() + '\n');
    return 0;
  }
  return command.run(rest);
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`simchain: ${describeError(e)}\n`);
  if (process.env.SIMCHAIN_DEBUG && e instanceof Error && e.stack) process.stderr.write(e.stack + '\n');
  process.exitCode = exitCodeOf(e);
}
