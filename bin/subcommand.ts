/** The shape every `simchain` subcommand group exports (one file per group in bin/). */
export interface Subcommand {
  /** The first word after `simchain`. */
  name: string;
  /** One line for `simchain --help`. */
  summary: string;
  /** Full help text, printed for `simchain NAME --help`. */
  help: string;
  /** Runs with the words after the name; resolves to the exit code. Throws CliError for bad input. */
  run(argv: string[]): Promise<number>;
}
