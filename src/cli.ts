import yargs, { type Argv } from 'yargs';
import { cleanupCommand } from './commands/cleanup.js';
import type { CommandContext, CommandOutput, CommandSpec } from './commands/command.js';
import { doctorCommand } from './commands/doctor.js';
import { labCommand } from './commands/lab.js';
import { loadCommand } from './commands/load.js';
import { probeCommand } from './commands/probe.js';
import { runCommand } from './commands/run.js';
import { validateCommand } from './commands/validate.js';
import { DpbenchError, ExitCode } from './errors.js';

/** The only module that prints or exits. Everything else returns values or throws DpbenchError. */

export interface Io {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  cwd: string;
  /** Installs signal handlers (the real CLI); tests pass their own AbortSignal instead. */
  signal?: AbortSignal;
}

const defaultIo = (): Io => ({
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  cwd: process.cwd(),
});

export const COMMANDS: CommandSpec<any>[] = [runCommand, validateCommand, labCommand, doctorCommand, cleanupCommand, loadCommand, probeCommand];

const EPILOGUE = `Exit codes: 0 ok · 1 an SLO or regression failed · 2 bad input or usage · 3 the environment lacks something (or the run was interrupted)
Docs: README.md · scenarios/ holds runnable examples · schemas/ holds the JSON Schemas`;

function formatError(e: DpbenchError): string {
  return [`error: ${e.message}`, ...e.details.map((d) => `  ${d}`), `hint: ${e.hint}`].join('\n') + '\n';
}

export async function main(argv: string[], io: Io = defaultIo()): Promise<number> {
  const ac = new AbortController();
  const ownSignals = !io.signal;
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    io.stderr(signals === 1 ? `\n${sig}: stopping after cleanup (finished trials are kept)…\n` : `${sig}: still cleaning up, please wait\n`);
    ac.abort();
  };
  if (ownSignals) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  io.signal?.addEventListener('abort', () => ac.abort(), { once: true });

  let json = false;
  let pending: Promise<CommandOutput> | undefined;
  const ctx: CommandContext = { progress: (l) => io.stderr(`${l}\n`), signal: ac.signal, cwd: io.cwd };

  let y: Argv = yargs(argv)
    .scriptName('dpbench')
    .usage('$0 <command> [options]\n\nBenchmark Kubernetes service datapaths (iptables, nftables, IPVS, eBPF) on a built-in lab.')
    .option('json', { type: 'boolean', default: false, describe: 'print the result as JSON on stdout' })
    .strict()
    .demandCommand(1, 'name a command')
    .epilogue(EPILOGUE)
    .wrap(Math.min(110, process.stdout.columns || 110))
    .exitProcess(false)
    .fail((msg, err) => {
      throw err ?? new DpbenchError('BAD_INPUT', msg, 'see `dpbench --help`');
    });
  for (const c of COMMANDS) {
    y = y.command(
      c.command,
      c.describe,
      (b: Argv) => {
        let bb = c.builder(b);
        for (const [cmd, desc] of c.examples) bb = bb.example(cmd, desc);
        return bb.epilogue(EPILOGUE);
      },
      (args: Record<string, unknown>) => {
        json = Boolean(args.json);
        pending = c.run(args, ctx);
      },
    );
  }

  try {
    let helpText = '';
    await y.parseAsync(argv, {}, (_err: unknown, _a: unknown, output: string) => {
      helpText = output;
    });
    if (!pending) {
      if (helpText) io.stdout(`${helpText}\n`);
      return ExitCode.ok;
    }
    const out = await pending;
    io.stdout(json ? `${JSON.stringify(out.json, null, 2)}\n` : `${out.text}\n`);
    return out.exitCode;
  } catch (e) {
    if (e instanceof DpbenchError) {
      if (json) io.stdout(`${JSON.stringify({ error: { code: e.code, message: e.message, hint: e.hint, details: e.details } }, null, 2)}\n`);
      io.stderr(formatError(e));
      return e.exitCode;
    }
    io.stderr(`internal error: ${(e as Error).stack ?? String(e)}\n`);
    return ExitCode.internal;
  } finally {
    if (ownSignals) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }
}
