import type { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { badInput } from '../errors.js';
import { encodeHistogram, newHistogram, type Histogram } from '../results/histogram.js';
import { schedWaitNs } from './sched-wait.js';
import type { ClosedLoopConfig, ClosedLoopResult, GroupResult, TargetGroup } from './types.js';

/**
 * Closed loop (saturation) through autocannon, which keeps every connection busy and pipelines.
 * Its own histogram holds whole milliseconds, so each response's time (from autocannon's hrtime,
 * fractional ms) is recorded here into a µs histogram instead, and only inside the measured window.
 */

/** The part of autocannon's (untyped, CommonJS) API used here. */
interface AutocannonOptions {
  url: string[];
  connections: number;
  pipelining: number;
  duration: number;
  timeout: number;
  headers?: Record<string, string>;
}
type Autocannon = (opts: AutocannonOptions, done: (err: Error | null) => void) => EventEmitter & { stop(): void };
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

/**
 * Why closed loop is keep-alive only: autocannon sends its own `Connection: keep-alive` next to
 * any `Connection: close` given to it, and writes the next request before it sees the close, so
 * "a new connection per request" cannot be had from it honestly.
 */
export const CLOSED_NEW_CONNECTION_UNSUPPORTED =
  'closed-loop load keeps connections alive (autocannon cannot open one connection per request cleanly); measure new connections with an open-loop load';

/** Up to n addresses spread evenly over the group, so a 10k-VIP group is sampled across its range. */
function sample(g: TargetGroup, n: number, path: string): string[] {
  const step = Math.max(1, g.addresses.length / n);
  const out: string[] = [];
  for (let i = 0; i < Math.min(n, g.addresses.length); i++) {
    const a = g.addresses[Math.floor(i * step)]!;
    out.push(`http://${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}${path}`);
  }
  return out;
}

export async function runClosedLoop(cfg: ClosedLoopConfig, signal?: AbortSignal): Promise<ClosedLoopResult> {
  if (cfg.groups.length === 0 || cfg.groups.some((g) => g.addresses.length === 0)) {
    throw new RangeError('every target group needs at least one address');
  }
  if (cfg.connection === 'new') throw badInput(CLOSED_NEW_CONNECTION_UNSUPPORTED, 'use mode: open with connection: new (or drop --closed)');
  const per = Math.max(1, Math.floor(cfg.connections / cfg.groups.length));
  const timeoutUs = cfg.timeoutS * 1_000_000;
  const start = performance.now();
  const measureFrom = start + cfg.warmupS * 1000;
  const measureTo = measureFrom + cfg.durationS * 1000;
  const inWindow = (t: number) => t >= measureFrom && t <= measureTo;
  let cpuAt: NodeJS.CpuUsage | undefined;
  let waitAt = 0;
  const mark = setTimeout(() => {
    cpuAt = process.cpuUsage();
    waitAt = schedWaitNs();
  }, cfg.warmupS * 1000);

  const runs = cfg.groups.map((group) => {
    const hist: Histogram = newHistogram();
    const state = { hist, ok: 0, errors: {} as Record<string, number> };
    const err = (kind: string) => {
      state.errors[kind] = (state.errors[kind] ?? 0) + 1;
    };
    const done = new Promise<void>((resolve, reject) => {
      const inst = autocannon(
        {
          url: sample(group, per, cfg.path ?? '/'),
          connections: per,
          pipelining: cfg.pipelining,
          duration: cfg.warmupS + cfg.durationS,
          timeout: Math.max(1, Math.round(cfg.timeoutS)),
          headers: { 'user-agent': 'dpbench' },
        },
        (e) => (e ? reject(e) : resolve()),
      );
      const stop = () => inst.stop();
      signal?.addEventListener('abort', stop, { once: true });
      inst.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
        if (!inWindow(performance.now())) return;
        if (status < 200 || status >= 400) return err(`http_${status}`);
        state.ok++;
        hist.recordValue(Math.max(1, Math.round(ms * 1000)));
      });
      inst.on('reqError', (e: Error) => {
        if (!inWindow(performance.now())) return;
        if (/timed out/.test(e.message)) {
          err('timeout');
          hist.recordValue(timeoutUs);
        } else err((e as NodeJS.ErrnoException).code ?? 'error');
      });
    });
    return { group, state, done };
  });
  await Promise.all(runs.map((r) => r.done));
  clearTimeout(mark);
  const end = performance.now();
  const cpu = process.cpuUsage(cpuAt);
  const windowMs = Math.max(1, Math.min(end, measureTo) - measureFrom);
  const groups: GroupResult[] = runs.map(({ group, state }) => {
    const enc = encodeHistogram(state.hist);
    return { name: group.name, latency: enc, serviceTime: enc, ok: state.ok, errors: state.errors };
  });
  const ok = groups.reduce((s, g) => s + g.ok, 0);
  return {
    groups,
    achievedRps: (ok / windowMs) * 1000,
    measuredSeconds: windowMs / 1000,
    cpu: (cpu.user + cpu.system) / 1000 / Math.max(1, end - measureFrom),
    cpuWait: (schedWaitNs() - waitAt) / 1e6 / Math.max(1, end - measureFrom),
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
  };
}
