/**
 * The V8 flags a benchmark's own processes pass on to the simchain processes it starts, so
 * the SMSC, the fleet and the import CLI run as tuned as the backend in the benchmark's
 * process: `npm run bench` starts it with `--max-semi-space-size=64` (package.json; why, in
 * the README's "Process tuning").
 */
export function inheritedNodeFlags(): string[] {
  return process.execArgv.filter((a) => a.startsWith('--max-semi-space-size'));
}
