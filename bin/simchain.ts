/**
 * The composition root: the only module that imports both the backend and the simulators.
 * Each subcommand group lives in its own file and is a thin shell over the layers.
 */
import { CliError, describeError, exitCodeOf } from './cli-io.js';
import type { Subcommand } from './subcommand.js';
/**
 * Each group is loaded only when it runs: a one-shot command (ota, card, import) should not
 * pay for loading the HTTP server, the job queue or the chain code it does not use.
 */
const commands: Record<string, () => Promise<{ command: Subcommand }>> = {
  start: () => import('./start.js'),
  serve: () => import('./serve.js'),
  worker: () => import('./worker.js'),
  migrate: () => import('./migrate.js'),
  import: () => import('./import.js'),
  admin: () => import('./admin.js'),
  sim: () => import('./sim.js'),
  ota: () => import('./ota.js'),
  card: () => import('./card.js'),
  demo: () => import('./demo.js'),
  'ota-demo': () => import('./ota-demo.js'),
};

async function usage(): Promise<string> {
  const all = await Promise.all(Object.values(commands).map(async (load) => (await load()).command));
  const width = Math.max(...all.map((c) => c.name.length));
  return [
    'simchain: the Blockchain of Things SIM platform',
    '',
    'usage: simchain <command> [options]',
    '',
    ...all.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'simchain <command> --help describes a command.',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write((await usage()) + '\n');
    return name === undefined ? 2 : 0;
  }
  const load = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!load) throw new CliError(`unknown command '${name}'; try simchain --help`, 2);
  const { command } = await load();
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
