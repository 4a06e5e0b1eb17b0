import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nginxConfig } from '../../src/targets/lab/backends.js';

/** An nginx of our own on 127.0.0.1, the same config as a lab echo pod; stopped by its PID. */
export interface LocalNginx {
  port: number;
  pid: number;
  stop: () => Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function answers(port: number): Promise<boolean> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(500) });
    return r.status === 200;
  } catch {
    return false;
  }
}

export async function startNginx(cpu: number | undefined): Promise<LocalNginx> {
  const dir = mkdtempSync(join(tmpdir(), 'dpbench-bench-nginx-'));
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, nginxConfig(dir, `127.0.0.1:${port}`));
  const pin = cpu === undefined ? [] : ['taskset', '-c', String(cpu)];
  const argv = [...pin, 'nginx', '-p', dir, '-c', conf, '-e', join(dir, 'error.log')];
  const child: ChildProcess = spawn(argv[0]!, argv.slice(1), { stdio: 'ignore' });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = async () => {
    // `daemon off` keeps the master in the foreground as our child; SIGQUIT lets it stop its worker.
    if (child.exitCode === null) child.kill('SIGQUIT');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 100; i++) {
    if (await answers(port)) return { port, pid: child.pid!, stop };
    await new Promise((r) => setTimeout(r, 50));
  }
  await stop();
  throw new Error(`nginx did not answer on 127.0.0.1:${port}`);
}
