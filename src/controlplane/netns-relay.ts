import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { startProcess, waitHealthy, type ManagedProcess } from './process.js';
import { exec } from '../util/exec.js';

export interface NetnsRelayOptions {
  /** The lab namespace whose processes need the apiserver (node-a). */
  netns: string;
  /** The host-side target, always on loopback. */
  targetPort: number;
  /** Port the relay listens on inside `netns`, on that namespace's own 127.0.0.1. */
  listenPort: number;
  stateDir: string;
}

export interface NetnsRelay {
  /** What a process inside the namespace dials: https://127.0.0.1:<listenPort>. */
  address: string;
  process: ManagedProcess;
  stop(): Promise<void>;
}

// Runs inside the namespace: node's loopback port → the unix socket. Kept inline so the relay
// needs no file on disk beyond node itself.
const INNER = `const net=require('net');const [h,p,u]=process.argv.slice(1);
net.createServer((s)=>{const c=net.connect(u);s.pipe(c).pipe(s);s.on('error',()=>c.destroy());c.on('error',()=>s.destroy());}).listen(+p,h);`;

const pipe = (a: Socket, b: Socket) => {
  a.pipe(b).pipe(a);
  a.on('error', () => b.destroy());
  b.on('error', () => a.destroy());
};

/**
 * Lets processes in a lab namespace reach the apiserver on the host's 127.0.0.1 without any
 * link or route between the lab and the host: a unix socket is a file, visible from every
 * network namespace, so the bytes cross through the filesystem and nothing can leave the lab.
 */
export async function startNetnsRelay(o: NetnsRelayOptions): Promise<NetnsRelay> {
  const sock = join(o.stateDir, `relay-${o.listenPort}.sock`);
  const open = new Set<Socket>();
  const outer: Server = createServer((s) => {
    const up = createConnection(o.targetPort, '127.0.0.1');
    for (const x of [s, up]) {
      open.add(x);
      x.on('close', () => open.delete(x));
    }
    pipe(s, up);
  });
  await new Promise<void>((resolve, reject) => {
    outer.once('error', reject);
    outer.listen(sock, resolve);
  });
  outer.unref();
  let proc: ManagedProcess;
  try {
    proc = await startProcess({
      name: 'netns-relay',
      argv: [process.execPath, '-e', INNER, '127.0.0.1', String(o.listenPort), sock],
      netns: o.netns,
      logFile: join(o.stateDir, `relay-${o.listenPort}.log`),
    });
  } catch (e) {
    outer.close();
    throw e;
  }
  const stop = async () => {
    await proc.stop(2_000);
    // close() waits for open connections; a watch from a stopped client must not hold it.
    for (const x of open) x.destroy();
    await new Promise<void>((r) => outer.close(() => r()));
  };
  try {
    await waitHealthy(
      proc,
      async () => {
        const r = await exec(['ss', '-Hltn', `sport = :${o.listenPort}`], { netns: o.netns });
        return r.stdout.trim() ? null : 'not listening yet';
      },
      10_000,
    );
  } catch (e) {
    await stop();
    throw e;
  }
  return { address: `https://127.0.0.1:${o.listenPort}`, process: proc, stop };
}
