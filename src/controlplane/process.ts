import { spawn } from 'node:child_process';
import { open, readFile } from 'node:fs/promises';
import { internal } from '../errors.js';
import { withNetns } from '../util/exec.js';

export interface ProcessSpec {
  /** Short name used in errors ("kube-apiserver"). */
  name: string;
  argv: readonly string[];
  /** Run inside this network namespace; `ip netns exec` execs in place, so the PID is the component's. */
  netns?: string;
  /** stdout and stderr go here, so a failed start can quote the component's own words. */
  logFile: string;
  env?: NodeJS.ProcessEnv;
}

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Exit code or signal once it has exited; undefined while it runs. */
  exitStatus(): string | undefined;
  /** SIGTERM, then SIGKILL after graceMs. Idempotent; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Starts a long-running component detached from our stdio (logs to a file) and keeps its PID so
 * it can be stopped by PID, never by name: other runs on the machine may run the same binaries.
 */
export async function startProcess(spec: ProcessSpec): Promise<ManagedProcess> {
  const log = await open(spec.logFile, 'a');
  const argv = withNetns(spec.netns, spec.argv);
  const child = spawn(argv[0]!, argv.slice(1), {
    stdio: ['ignore', log.fd, log.fd],
    env: spec.env ?? process.env,
  });
  await log.close();
  let status: string | undefined;
  const exited = new Promise<void>((resolve) => {
    child.on('exit', (code, signal) => {
      status = signal ? `killed by ${signal}` : `exit ${code}`;
      resolve();
    });
    child.on('error', (e) => {
      status = `failed to start: ${e.message}`;
      resolve();
    });
  });
  const pid = child.pid;
  if (pid === undefined) {
    await exited;
    throw new Error(`${spec.name}: ${status ?? 'did not start'}`);
  }
  let stopping: Promise<void> | undefined;
  return {
    name: spec.name,
    pid,
    logFile: spec.logFile,
    exitStatus: () => status,
    stop(graceMs = 10_000) {
      stopping ??= (async () => {
        if (status !== undefined) return;
        child.kill('SIGTERM');
        let timer: NodeJS.Timeout | undefined;
        const killed = new Promise<void>((resolve) => {
          timer = setTimeout(() => {
            if (status === undefined) child.kill('SIGKILL');
            resolve();
          }, graceMs);
        });
        await Promise.race([exited, killed]);
        await exited;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
}

/** The last lines of a component's log, for error messages. */
export async function logTail(file: string, lines = 15): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * Polls `check` until it returns null (healthy), failing early with the component's own log when
 * the process exits, so a bad flag surfaces as the component's error, not as a timeout. A process
 * that never became healthy is stopped before the error is thrown: no caller keeps one.
 */
export async function waitHealthy(
  proc: ManagedProcess,
  check: () => Promise<string | null>,
  timeoutMs: number,
): Promise<void> {
  try {
    await pollHealthy(proc, check, timeoutMs);
  } catch (e) {
    await proc.stop();
    throw e;
  }
}

async function pollHealthy(proc: ManagedProcess, check: () => Promise<string | null>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let why = 'no answer yet';
  while (Date.now() < deadline) {
    const status = proc.exitStatus();
    if (status !== undefined) {
      throw internal(`${proc.name} exited while starting (${status}):\n${await logTail(proc.logFile)}`,
        `its full log is ${proc.logFile}`);
    }
    try {
      const r = await check();
      if (r === null) return;
      why = r;
    } catch (e) {
      why = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw internal(`${proc.name} was not healthy after ${timeoutMs} ms (${why}):\n${await logTail(proc.logFile)}`,
    `its full log is ${proc.logFile}; on a busy 2-core machine raise the timeout`);
}
