import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { internal } from '../errors.js';
import type { OpenLoopConfig, OpenLoopResult } from './types.js';

export interface Placement {
  netns?: string;
  /** cgroup v2 directory the generator must join before it opens any socket. */
  cgroup?: string;
  cpu?: number;
}

/** node argv that runs a module of this package whether we run from src (tsx) or from dist. */
export function nodeArgsFor(moduleUrl: string): string[] {
  const file = fileURLToPath(moduleUrl);
  return file.endsWith('.ts') ? ['--import', 'tsx', file] : [file];
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * Runs the open-loop engine in a child process placed in a namespace, cgroup and CPU. The shell
 * joins the cgroup *before* exec'ing node, so no socket is ever opened outside it.
 */
export function spawnOpenLoop(cfg: OpenLoopConfig, where: Placement, signal?: AbortSignal): Promise<OpenLoopResult> {
  const node = [process.execPath, ...nodeArgsFor(new URL('./worker.' + (import.meta.url.endsWith('.ts') ? 'ts' : 'js'), import.meta.url).href)];
  const pin = where.cpu === undefined ? [] : ['taskset', '-c', String(where.cpu)];
  const cmd = [...pin, ...node].map(shellQuote).join(' ');
  const script = where.cgroup ? `echo $$ > ${shellQuote(`${where.cgroup}/cgroup.procs`)} && exec ${cmd}` : `exec ${cmd}`;
  const argv = where.netns ? ['ip', 'netns', 'exec', where.netns, 'sh', '-c', script] : ['sh', '-c', script];
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const onAbort = () => child.kill('SIGTERM');
    signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => {
      signal?.removeEventListener('abort', onAbort);
      const text = Buffer.concat(out).toString().trim();
      if (code !== 0 || !text) {
        reject(internal(`load generator exited with ${code}: ${Buffer.concat(err).toString().slice(-2000)}`,
          'this is a dpbench bug or a broken Node install; rerun with the same scenario to reproduce'));
        return;
      }
      resolve(JSON.parse(text.split('\n').pop()!) as OpenLoopResult);
    });
    child.stdin.end(JSON.stringify(cfg));
  });
}
