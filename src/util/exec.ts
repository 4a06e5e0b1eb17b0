import { spawn, type ChildProcess } from 'node:child_process';
import { environment, internal } from '../errors.js';

export interface ExecOptions {
  /** Run inside this network namespace (through `ip netns exec`). */
  netns?: string;
  /** Written to the child's stdin, then stdin is closed (used for iptables-restore, nft -f -). */
  input?: string;
  /** Resolve with the result instead of throwing when the exit code is not 0. */
  allowFailure?: boolean;
  timeoutMs?: number;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Commands in flight, so Ctrl-C can stop a minutes-long iptables-restore instead of waiting for it. */
const running = new Set<ChildProcess>();

/**
 * Stops every command still running (SIGTERM). The tools dpbench drives apply their input
 * atomically (iptables-restore and nft -f commit at the end), so an interrupted one changes nothing.
 */
export function interruptCommands(): number {
  for (const c of running) c.kill('SIGTERM');
  return running.size;
}

export function withNetns(netns: string | undefined, argv: readonly string[]): string[] {
  return netns ? ['ip', 'netns', 'exec', netns, ...argv] : [...argv];
}

/**
 * Runs a command to completion. Every kernel change dpbench makes goes through here, so a
 * failing tool always surfaces with its stderr and the command line that failed.
 */
export function exec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const full = withNetns(opts.netns, argv);
  return new Promise((resolve, reject) => {
    const [cmd, ...args] = full;
    const child = spawn(cmd!, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    running.add(child);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    if (opts.timeoutMs) timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e: NodeJS.ErrnoException) => {
      running.delete(child);
      if (timer) clearTimeout(timer);
      if (e.code === 'ENOENT') {
        reject(environment(`${cmd} is not installed`, `run \`dpbench doctor\` to see which Debian package provides it`));
      } else reject(e);
    });
    child.on('close', (code, signal) => {
      running.delete(child);
      if (timer) clearTimeout(timer);
      const res = { code: code ?? 128, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
      if (res.code !== 0 && !opts.allowFailure) {
        const why = signal ? `killed by ${signal}` : `exit ${res.code}`;
        reject(internal(`\`${full.join(' ').slice(0, 200)}\` failed (${why}): ${res.stderr.trim().slice(0, 2000)}`,
          'the command above is exactly what dpbench ran; run it by hand to see the full error'));
      } else resolve(res);
    });
    child.stdin.on('error', () => {
      /* the child may exit before reading all input; its exit code tells the story */
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** True when `cmd` resolves on PATH. */
export async function hasCommand(cmd: string): Promise<boolean> {
  const r = await exec(['sh', '-c', `command -v ${cmd}`], { allowFailure: true });
  return r.code === 0;
}
