/**
 * Programming-latency probe process, run inside the client pod (netns + cgroup) by runWorker. It
 * takes orders over a Unix socket (a filesystem path works across network namespaces): "watch
 * this VIP until it starts (or stops) answering". It sends a connection attempt every interval and
 * reports the send time of the first attempt that saw the new state, on CLOCK_MONOTONIC, which
 * the parent process shares, so the parent can subtract its own start time.
 */
import { serveWorker } from '../util/stdin.js';
import { connect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface ProgrammingWorkerInput {
  socket: string;
  intervalUs: number;
  /** An attempt with no answer by then counts as "not answering" (normally ICMP says so within µs). */
  attemptTimeoutMs: number;
  /** Upper bound on one watch; past it the order fails with ETIMEDOUT. */
  watchTimeoutMs: number;
}

export interface WatchOrder {
  id: number;
  /** up: wait until the VIP answers; down: until it stops answering. */
  until: 'up' | 'down';
  host: string;
  port: number;
}

/** Sent once the first attempt confirmed the VIP is in the old state: the parent may change it now. */
export interface WatchAck {
  id: number;
  type: 'ack';
}

export interface WatchResult {
  id: number;
  type: 'result';
  /** CLOCK_MONOTONIC ns (as a decimal string) at which the first attempt that saw the new state was sent. */
  seenAt?: string;
  attempts: number;
  error?: string;
}

export interface ProgrammingWorkerResult {
  orders: number;
}

interface Attempt {
  start: bigint;
  done: boolean;
  answered?: boolean;
}

// Sub-millisecond sleeps without spinning: Atomics.wait blocks this thread with a µs-ish timeout
// (setTimeout cannot go below 1 ms). Socket events queue meanwhile and are handled on the next
// turn; only attempt send times are measured here, so that delay does not matter.
const sleeper = new Int32Array(new SharedArrayBuffer(4));
const sleepUs = (us: number) => {
  if (us > 0) Atomics.wait(sleeper, 0, 0, us / 1000);
};
const turn = () => new Promise<void>((r) => setImmediate(r));

function attempt(host: string, port: number, timeoutMs: number): Attempt {
  const a: Attempt = { start: process.hrtime.bigint(), done: false };
  const s: Socket = connect({ host, port });
  const finish = (answered: boolean) => {
    if (a.done) return;
    a.done = true;
    a.answered = answered;
    clearTimeout(timer);
    if (answered) s.resetAndDestroy();
    else s.destroy();
  };
  // A starved process wakes up with the timer already due, and timers run before pending socket
  // events in Node's loop: deciding "no answer" right away could miss a connect that did happen.
  // setImmediate runs after this turn's I/O, so the connect (or error) gets its say first.
  const timer = setTimeout(() => setImmediate(() => finish(false)), timeoutMs);
  s.once('connect', () => finish(true));
  s.once('error', () => finish(false));
  return a;
}

export async function watch(
  o: WatchOrder,
  cfg: Omit<ProgrammingWorkerInput, 'socket'>,
  onAck: () => void,
  cancelled: () => boolean = () => false,
): Promise<WatchResult> {
  const want = o.until === 'up';
  const attempts: Attempt[] = [];
  // The VIP must first be seen in its old state; otherwise the change cannot be timed.
  const first = attempt(o.host, o.port, cfg.attemptTimeoutMs);
  while (!first.done) await new Promise((r) => setTimeout(r, 1));
  if (first.answered === want) return { id: o.id, type: 'result', attempts: 1, error: `VIP already ${o.until} before the change` };
  onAck();
  const deadline = process.hrtime.bigint() + BigInt(cfg.watchTimeoutMs) * 1_000_000n;
  let next = process.hrtime.bigint();
  let p = 0;
  for (;;) {
    const now = process.hrtime.bigint();
    if (now >= next) {
      attempts.push(attempt(o.host, o.port, cfg.attemptTimeoutMs));
      next += BigInt(cfg.intervalUs) * 1000n;
      if (next < now) next = now + BigInt(cfg.intervalUs) * 1000n;
    }
    await turn();
    // The earliest-sent attempt that saw the new state, once every attempt sent before it has ended.
    while (p < attempts.length && attempts[p]!.done) {
      if (attempts[p]!.answered === want) return { id: o.id, type: 'result', seenAt: attempts[p]!.start.toString(), attempts: attempts.length };
      p++;
    }
    if (process.hrtime.bigint() > deadline) return { id: o.id, type: 'result', attempts: attempts.length, error: 'ETIMEDOUT' };
    // The parent went away (gave up or was interrupted): stop probing a lab that may be gone.
    if (cancelled()) return { id: o.id, type: 'result', attempts: attempts.length, error: 'cancelled' };
    sleepUs(Number(next - process.hrtime.bigint()) / 1000);
  }
}

async function watchOrders(input: ProgrammingWorkerInput): Promise<ProgrammingWorkerResult> {
  const ctl = connect(input.socket);
  await new Promise<void>((res, rej) => ctl.once('connect', res).once('error', rej));
  const send = (m: object) => ctl.write(`${JSON.stringify(m)}\n`);
  let closed = false;
  ctl.once('close', () => (closed = true));
  process.on('SIGTERM', () => (closed = true));
  let orders = 0;
  for await (const line of createInterface({ input: ctl })) {
    const o = JSON.parse(line) as WatchOrder | { until: 'exit' };
    if (o.until === 'exit') break;
    orders++;
    send(await watch(o, input, () => send({ id: o.id, type: 'ack' } satisfies WatchAck), () => closed));
    if (closed) break;
  }
  ctl.end();
  return { orders };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await serveWorker(watchOrders);
