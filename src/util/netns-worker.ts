import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { internal } from '../errors.js';

/** Where a worker process runs: lab pods are network namespaces, the eBPF datapath needs the cgroup. */
export interface Placement {
  netns?: string;
  /** cgroup v2 directory the worker joins before it opens any socket. */
  cgroup?: string;
  cpu?: number;
  /** nice level, so that neighbours (a build, a backup) cannot starve a load generator. */
  nice?: number;
}

/** node argv that runs a module of this package whether we run from src (tsx) or from dist. */
export function nodeArgsFor(moduleUrl: string): string[] {
  const file = fileURLToPath(moduleUrl);
  return file.endsWith('.ts') ? ['--import', 'tsx', file] : [file];
}

/** `new URL('./x.js')` from a module that may itself be running as .ts under tsx/vitest. */
export function siblingModule(fromUrl: string, baseName: string): string {
  return new URL(`./${baseName}.${fromUrl.endsWith('.ts') ? 'ts' : 'js'}`, fromUrl).href;
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * Runs a Node module as a child process placed in a namespace, cgroup and CPU. A running Node
 * process cannot enter a network namespace, hence the child. The shell joins the cgroup *before*
 * exec'ing node, so no socket is ever opened outside it. Input goes as JSON on stdin (it can hold
 * 40k+ VIPs, too big for argv); the module prints one JSON line, its result, as its last line.
 */
export function runWorker<I, O>(moduleUrl: string, input: I, where: Placement, signal?: AbortSignal): Promise<O> {
  const pin = [
    ...(where.nice === undefined ? [] : ['nice', '-n', String(where.nice)]),
    ...(where.cpu === undefined ? [] : ['taskset', '-c', String(where.cpu)]),
  ];
  const cmd = [...pin, process.execPath, ...nodeArgsFor(moduleUrl)].map(shellQuote).join(' ');
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
        reject(internal(`worker ${fileURLToPath(moduleUrl)} exited with ${code}: ${Buffer.concat(err).toString().slice(-2000)}`,
          'this is a dpbench bug or a broken Node install; rerun with the same scenario to reproduce'));
        return;
      }
      resolve(JSON.parse(text.split('\n').pop()!) as O);
    });
    child.stdin.end(JSON.stringify(input));
  });
}
