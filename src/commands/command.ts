import type { Argv } from 'yargs';
import type { ExitCode } from '../errors.js';

/** What a command hands back to src/cli.ts, the only module that prints or exits. */
export interface CommandOutput {
  exitCode: ExitCode;
  /** Printed (pretty JSON) when --json is given. */
  json: unknown;
  /** Printed otherwise; already formatted for a terminal. */
  text: string;
}

export interface CommandContext {
  /** Progress for long runs; cli.ts sends it to stderr so stdout stays clean for --json. */
  progress: (line: string) => void;
  /** Aborted on SIGINT/SIGTERM; long operations stop early and still clean up. */
  signal: AbortSignal;
  cwd: string;
}

/**
 * One CLI command. Commands only return values; cli.ts registers them with yargs, adds the global
 * --json flag, prints the output and maps DpbenchError to its exit code.
 */
export interface CommandSpec<A = Record<string, unknown>> {
  command: string;
  describe: string;
  examples: ReadonlyArray<readonly [string, string]>;
  builder: (y: Argv) => Argv;
  run: (args: A, ctx: CommandContext) => Promise<CommandOutput>;
}
