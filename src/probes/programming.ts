import { rm } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { internal } from '../errors.js';
import type { Metric } from '../results/model.js';
import { newHistogram, toDistribution } from '../results/histogram.js';
import { runWorker, siblingModule, type Placement } from '../util/netns-worker.js';
import type { ServiceSpec } from '../targets/lab/addressing.js';
import type { Datapath } from '../targets/lab/datapaths/datapath.js';
import { probeDuration } from './connect.js';
import type { ProgrammingWorkerInput, ProgrammingWorkerResult, WatchOrder, WatchResult } from './programming-worker.js';

export const ProgrammingProbeSchema = z
  .object({
    changes: z.number().int().min(1).max(240).default(20).describe('services added then removed, one at a time'),
    interval: probeDuration(0.001).default(0.0005).describe('time between two connection attempts to the changing VIP (at most 1ms)'),
    timeout: probeDuration(600).default(120).describe('longest wait for one change to show'),
  })
  .strict();
export type ProgrammingProbeOptions = z.output<typeof ProgrammingProbeSchema>;

export interface ProgrammingSample {
  /** From the start of the datapath change to the send time of the first connection that saw it, µs. */
  addUs: number;
  removeUs: number;
  /** How long the datapath's own command took (iptables-restore, nft -f, bpftool batch), µs. */
  addCommandUs: number;
  removeCommandUs: number;
}

export interface ProgrammingProbeResult {
  metrics: Record<string, Metric>;
  samples: ProgrammingSample[];
  errors: string[];
}

/** A line-oriented order/reply channel to the worker over a Unix socket. */
class Channel {
  private waiting = new Map<string, (m: WatchResult | { id: number; type: 'ack' }) => void>();
  constructor(private readonly sock: Socket) {
    const rl = createInterface({ input: sock });
    rl.on('line', (line) => {
      const m = JSON.parse(line) as WatchResult | { id: number; type: 'ack' };
      const k = `${m.type}:${m.id}`;
      this.waiting.get(k)?.(m);
      this.waiting.delete(k);
    });
  }
  next<T>(type: 'ack' | 'result', id: number, timeoutMs: number): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(internal(`programming probe worker sent no ${type} for order ${id}`, 'rerun; if it persists, report it')), timeoutMs);
      // A pending wait must never keep the process alive after the probe has given up.
      timer.unref();
      this.waiting.set(`${type}:${id}`, (m) => {
        clearTimeout(timer);
        resolve(m as T);
      });
    });
  }
  send(o: WatchOrder | { until: 'exit' }): void {
    this.sock.write(`${JSON.stringify(o)}\n`);
  }
}

const micros = (ns: bigint) => Number(ns / 1000n);

function distribution(xs: readonly number[]) {
  const h = newHistogram();
  for (const x of xs) h.recordValue(Math.max(1, Math.round(x)));
  return toDistribution(h);
}

export function programmingMetrics(samples: readonly ProgrammingSample[]): Record<string, Metric> {
  return {
    'programming.add': distribution(samples.map((s) => s.addUs)),
    'programming.remove': distribution(samples.map((s) => s.removeUs)),
    'programming.add.command': distribution(samples.map((s) => s.addCommandUs)),
    'programming.remove.command': distribution(samples.map((s) => s.removeCommandUs)),
  };
}

/**
 * With the background services installed, adds a service through the datapath's own incremental
 * path and times until a connection through its VIP first succeeds; then removes it and times
 * until the VIP stops answering. The watcher runs in the client pod and confirms the old state
 * before each change starts, so every change is timed from a known state.
 */
export async function runProgrammingProbe(
  dp: Datapath,
  makeService: (k: number) => ServiceSpec,
  o: ProgrammingProbeOptions,
  where: Placement,
  runDir: string,
  signal?: AbortSignal,
): Promise<ProgrammingProbeResult> {
  const path = join(runDir, `programming-${process.pid}.sock`);
  await rm(path, { force: true });
  const server = createServer();
  const accepted = new Promise<Socket>((res) => server.once('connection', res));
  await new Promise<void>((res, rej) => server.listen(path, res).once('error', rej));
  const input: ProgrammingWorkerInput = {
    socket: path,
    intervalUs: Math.round(o.interval * 1e6),
    attemptTimeoutMs: 250,
    watchTimeoutMs: Math.round(o.timeout * 1000),
  };
  const worker = runWorker<ProgrammingWorkerInput, ProgrammingWorkerResult>(siblingModule(import.meta.url, 'programming-worker'), input, where, signal);
  const samples: ProgrammingSample[] = [];
  const errors: string[] = [];
  let sock: Socket | undefined;
  try {
    sock = await Promise.race([
      accepted,
      worker.then(() => Promise.reject(internal('programming probe worker exited before connecting', 'rerun; if it persists, report it'))),
      new Promise<never>((_, rej) => setTimeout(() => rej(internal('programming probe worker did not connect within 30 s', 'is the machine overloaded?')), 30_000)),
    ]);
    const ch = new Channel(sock);
    let id = 0;
    const change = async (svc: ServiceSpec, until: 'up' | 'down', apply: () => Promise<void>) => {
      const order: WatchOrder = { id: ++id, until, host: svc.vip, port: svc.port };
      // Generous: on a busy 2-CPU machine the watcher may wait seconds for a CPU before it acks.
      const ack = ch.next<{ type: 'ack' }>('ack', order.id, 60_000);
      const result = ch.next<WatchResult>('result', order.id, input.watchTimeoutMs + 30_000);
      // Both are awaited below unless the watcher refuses the order; never leave one unhandled.
      ack.catch(() => {});
      result.catch(() => {});
      ch.send(order);
      // A result before the ack means the watcher refused the order (VIP already in the new state).
      const first = await Promise.race([ack, result]);
      if (first.type === 'result') return { error: (first as WatchResult).error ?? 'watcher refused the order' };
      const t0 = process.hrtime.bigint();
      await apply();
      const t1 = process.hrtime.bigint();
      const r = await result;
      if (r.error || !r.seenAt) return { error: r.error ?? 'no time reported' };
      const seen = BigInt(r.seenAt);
      // The watcher's attempts before t0 saw the old state (it acked it), so seen ≥ t0 always;
      // anything else would be a clock or protocol bug, and must not become a number.
      if (seen < t0) return { error: `change seen ${micros(t0 - seen)}µs before it was made` };
      return { us: micros(seen - t0), commandUs: micros(t1 - t0) };
    };
    for (let k = 0; k < o.changes && !signal?.aborted; k++) {
      const svc = makeService(k);
      const add = await change(svc, 'up', () => dp.addService(svc));
      if ('error' in add) {
        errors.push(`${svc.vip} add: ${add.error}`);
        await dp.removeService(svc).catch(() => {});
        continue;
      }
      const remove = await change(svc, 'down', () => dp.removeService(svc));
      if ('error' in remove) {
        errors.push(`${svc.vip} remove: ${remove.error}`);
        // Leave no probe service behind, whatever state the change reached.
        await dp.removeService(svc).catch(() => {});
        continue;
      }
      samples.push({ addUs: add.us!, removeUs: remove.us!, addCommandUs: add.commandUs!, removeCommandUs: remove.commandUs! });
    }
    ch.send({ until: 'exit' });
    await worker;
  } finally {
    sock?.destroy();
    server.close();
    await rm(path, { force: true });
  }
  const metrics = samples.length ? programmingMetrics(samples) : {};
  metrics['programming.errors'] = { unit: 'count', value: errors.length };
  return { metrics, samples, errors };
}
