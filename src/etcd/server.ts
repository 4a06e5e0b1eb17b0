import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { environment, internal } from '../errors.js';

export interface EtcdServerOptions {
  /** etcd creates it if missing; it must be empty or hold a previous etcd member's data. */
  dataDir: string;
  /** Path or name on PATH; Debian's etcd-server provides `etcd`. */
  binary?: string;
  extraArgs?: string[];
  /** How long to wait for /health before giving up. */
  startTimeoutMs?: number;
}

export interface EtcdServer {
  /** Client URL, e.g. http://127.0.0.1:40123 */
  endpoint: string;
  /** Prometheus text endpoint on its own port, so scraping never queues behind client traffic. */
  metricsUrl: string;
  pid: number;
  /** Server version as reported by /version, e.g. "3.4.23". */
  version: string;
  stop(): Promise<void>;
}

const STOP_GRACE_MS = 5_000;
/** Ports come from binding port 0 and closing; another process can grab one in between, so retry. */
const PORT_RACE_RETRIES = 3;

/** Asks the kernel for a free loopback port by binding port 0. */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function getJson(url: string, timeoutMs: number): Promise<unknown> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.json();
}

/**
 * Starts a single-member etcd bound to 127.0.0.1 only (client, peer and metrics listeners), and
 * resolves once /health says the member has a leader and serves requests.
 */
export async function startEtcd(opts: EtcdServerOptions): Promise<EtcdServer> {
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < PORT_RACE_RETRIES; attempt++) {
    try {
      return await startOnce(opts);
    } catch (e) {
      lastError = e as Error;
      if (!/address already in use/i.test(lastError.message)) throw e;
    }
  }
  throw lastError!;
}

async function startOnce(opts: EtcdServerOptions): Promise<EtcdServer> {
  const binary = opts.binary ?? 'etcd';
  const [clientPort, peerPort, metricsPort] = await Promise.all([freeLoopbackPort(), freeLoopbackPort(), freeLoopbackPort()]);
  const endpoint = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const metrics = `http://127.0.0.1:${metricsPort}`;
  const args = [
    '--name', 'dpbench',
    '--data-dir', opts.dataDir,
    '--listen-client-urls', endpoint,
    '--advertise-client-urls', endpoint,
    '--listen-peer-urls', peer,
    '--initial-advertise-peer-urls', peer,
    '--initial-cluster', `dpbench=${peer}`,
    '--initial-cluster-state', 'new',
    '--listen-metrics-urls', metrics,
    '--logger', 'zap',
    '--log-outputs', 'stderr',
    ...(opts.extraArgs ?? []),
  ];
  const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  // Keep only the tail: etcd logs every request that "took too long", which can be a lot.
  let stderrTail = '';
  child.stderr!.on('data', (b: Buffer) => {
    stderrTail = (stderrTail + b.toString()).slice(-8_000);
  });
  const spawnError = new Promise<never>((_, reject) => {
    child.once('error', (e: NodeJS.ErrnoException) => {
      reject(e.code === 'ENOENT'
        ? environment(`etcd binary "${binary}" was not found`, 'install it with `apt-get install etcd-server`, or pass the path of an etcd binary')
        : e);
    });
  });
  const earlyExit = new Promise<never>((_, reject) => {
    child.once('exit', (code, signal) => {
      reject(internal(`etcd exited during startup (${signal ?? `exit ${code}`}): ${lastLines(stderrTail)}`,
        `the command was: ${binary} ${args.join(' ')}`));
    });
  });
  // Both promises may reject after we stop caring; never let that become an unhandled rejection.
  spawnError.catch(() => undefined);
  earlyExit.catch(() => undefined);

  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
    const done = exited(child);
    process.kill(child.pid, 'SIGTERM');
    const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), STOP_GRACE_MS).unref());
    if ((await Promise.race([done.then(() => 'exited' as const), timer])) === 'timeout') {
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGKILL');
      await done;
    }
  };

  try {
    const version = await Promise.race([waitHealthy(endpoint, opts.startTimeoutMs ?? 20_000), spawnError, earlyExit]);
    return { endpoint, metricsUrl: `${metrics}/metrics`, pid: child.pid!, version, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

async function waitHealthy(endpoint: string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let why = 'no answer yet';
  while (Date.now() < deadline) {
    try {
      const health = (await getJson(`${endpoint}/health`, 1_000)) as { health?: string };
      if (health.health === 'true') {
        const v = (await getJson(`${endpoint}/version`, 1_000)) as { etcdserver?: string };
        return v.etcdserver ?? 'unknown';
      }
      why = `/health said ${JSON.stringify(health)}`;
    } catch (e) {
      why = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw internal(`etcd did not become healthy within ${timeoutMs} ms (${why})`, 'a very slow disk can delay the first WAL write; check the etcd log');
}

function lastLines(s: string): string {
  return s.trim().split('\n').slice(-5).join('\n');
}
