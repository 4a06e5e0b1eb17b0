/**
 * Connect-probe process, run inside the client pod (netns + cgroup) by runWorker: makes the planned
 * connections one at a time and reports each one's SYN→established time. One at a time, so no
 * connection queues behind another and the time is the datapath's, not the probe's.
 */
import { serveWorker } from '../util/stdin.js';
import { timeEach } from './timed-ops.js';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';

export interface ConnectOp {
  kind: 'vip' | 'worst' | 'direct';
  round: number;
  host: string;
  port: number;
}

export interface ConnectWorkerInput {
  ops: ConnectOp[];
  gapMs: number;
  timeoutMs: number;
}

export interface ConnectWorkerResult {
  /** µs per op, in plan order; −1 for a failed connection. */
  us: number[];
  errors: Record<string, number>;
}

/** Resolves to the connect time in µs, or rejects with the socket error (or ETIMEDOUT). */
export function timeConnect(host: string, port: number, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    // The start is taken before connect(): Node issues the syscall on the next tick, a few µs
    // later, which every kind (VIP and direct alike) pays the same.
    const t0 = process.hrtime.bigint();
    const s = connect({ host, port, noDelay: true });
    let settled = false;
    // setImmediate: a pending connect event of this turn is handled before the timeout counts.
    const timer = setTimeout(
      () =>
        setImmediate(() => {
          if (settled) return;
          settled = true;
          s.destroy();
          reject(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' }));
        }),
      timeoutMs,
    );
    s.once('connect', () => {
      if (settled) return;
      settled = true;
      const us = Number(process.hrtime.bigint() - t0) / 1000;
      clearTimeout(timer);
      // RST instead of FIN: no TIME_WAIT piles up on either side over thousands of probes.
      s.resetAndDestroy();
      resolve(us);
    });
    s.once('error', (e: NodeJS.ErrnoException) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      s.destroy();
      reject(e);
    });
  });
}

const main = () =>
  serveWorker(
    (input: ConnectWorkerInput): Promise<ConnectWorkerResult> =>
      timeEach(input.ops, input.gapMs, (op) => timeConnect(op.host, op.port, input.timeoutMs)),
  );

// Only when run as the worker process, not when imported for its types or timeConnect.
if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
