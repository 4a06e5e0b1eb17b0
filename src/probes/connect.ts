import { median, quantileSorted, sampleWithReplacement } from 'simple-statistics';
import { z } from 'zod';
import { prng } from '../util/prng.js';
import type { Metric } from '../results/model.js';
import { newHistogram, toDistribution } from '../results/histogram.js';
import { durationPattern, parseSeconds } from '../scenario/units.js';
import { runWorker, siblingModule, type Placement } from '../util/netns-worker.js';
import type { ServiceSpec } from '../targets/lab/addressing.js';
import type { ConnectOp, ConnectWorkerInput, ConnectWorkerResult } from './connect-worker.js';

/** A duration option of a probe ("1ms", "500us", 2): seconds, like the rest of the scenario. */
export const probeDuration = (max: number) =>
  z
    .union([z.number().positive().max(max), z.string().regex(new RegExp(durationPattern), 'expected a duration such as "1ms" or "500us"')])
    .transform((v) => parseSeconds(v)!)
    .refine((v) => v > 0 && v <= max, `must be more than 0 and at most ${max}s`)
    .describe('seconds as a number, or a string with a unit: 500us, 1ms, 2s');

export const ConnectProbeSchema = z
  .object({
    samples: z.number().int().min(20).max(100_000).default(1000).describe('connections of each kind: random VIP, last-installed VIP, direct to a pod'),
    gap: probeDuration(1).default(0.001).describe('pause between two connections, so the probe never queues behind itself'),
    timeout: probeDuration(10).default(1).describe('a connection not established by then counts as an error'),
    warmup: z.number().int().min(0).max(10_000).default(30).describe('connections of each kind made first and discarded'),
  })
  .strict();
export type ConnectProbeOptions = z.output<typeof ConnectProbeSchema>;


export interface Difference {
  /** Median of the paired differences a[i] − b[i], µs. */
  median: number;
  ciLow: number;
  ciHigh: number;
  pairs: number;
}

/**
 * Median of paired differences with a 95% percentile-bootstrap interval. Pairs come from the same
 * interleaved round, so slow drift of the machine cancels; the median keeps a few scheduler
 * hiccups from moving the estimate, which a mean (and a t-interval) would not.
 */
export function pairedDifference(a: readonly number[], b: readonly number[], seed = 1, resamples = 1000): Difference | undefined {
  const d: number[] = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i]! >= 0 && b[i]! >= 0) d.push(a[i]! - b[i]!);
  }
  if (d.length < 2) return undefined;
  const rand = prng(seed);
  const medians: number[] = [];
  for (let r = 0; r < resamples; r++) medians.push(median(sampleWithReplacement(d, d.length, rand)));
  medians.sort((x, y) => x - y);
  const round = (x: number) => Math.round(x * 10) / 10;
  return { median: round(median(d)), ciLow: round(quantileSorted(medians, 0.025)), ciHigh: round(quantileSorted(medians, 0.975)), pairs: d.length };
}

export interface ConnectPlan {
  ops: ConnectOp[];
  /** Rounds that are measured (after the warm-up rounds). */
  rounds: number;
  warmupRounds: number;
}

/**
 * Rounds of three connections, VIP of a random service, VIP of the last-installed service (last
 * in iptables' KUBE-SERVICES), and a pod IP directly, in a random order per round so that no kind
 * always follows another.
 */
export function connectPlan(services: readonly ServiceSpec[], podIps: readonly string[], podPort: number, o: ConnectProbeOptions, seed = 1): ConnectPlan {
  if (services.length === 0 || podIps.length === 0) throw new RangeError('the connect probe needs at least one service and one pod');
  const rand = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const last = services.at(-1)!;
  const ops: ConnectOp[] = [];
  const rounds = o.warmup + o.samples;
  for (let r = 0; r < rounds; r++) {
    const svc = pick(services);
    const round: ConnectOp[] = [
      { kind: 'vip', round: r, host: svc.vip, port: svc.port },
      { kind: 'worst', round: r, host: last.vip, port: last.port },
      { kind: 'direct', round: r, host: pick(podIps), port: podPort },
    ];
    for (let i = round.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [round[i], round[j]] = [round[j]!, round[i]!];
    }
    ops.push(...round);
  }
  return { ops, rounds: o.samples, warmupRounds: o.warmup };
}

export interface ConnectProbeResult {
  metrics: Record<string, Metric>;
  /** Failed connections among the measured ones. */
  errors: number;
  attempts: number;
  /** Connections through a VIP that succeeded, warm-up included: each one is a datapath decision. */
  vipConnections: number;
  /** Error codes over every connection, warm-up included (e.g. ECONNREFUSED, ETIMEDOUT). */
  errorCodes?: Record<string, number>;
}

/** Per-kind µs samples of the measured rounds, indexed by round (−1 where the connection failed). */
export function samplesByKind(plan: ConnectPlan, us: readonly number[]): Record<ConnectOp['kind'], number[]> {
  const out: Record<ConnectOp['kind'], number[]> = { vip: [], worst: [], direct: [] };
  plan.ops.forEach((op, i) => {
    if (op.round < plan.warmupRounds) return;
    out[op.kind][op.round - plan.warmupRounds] = us[i] ?? -1;
  });
  return out;
}

function distribution(xs: readonly number[]) {
  const h = newHistogram();
  for (const x of xs) if (x >= 0) h.recordValue(Math.max(1, Math.round(x)));
  return toDistribution(h);
}

/** Turns the worker's raw samples into run.json metrics. */
export function connectMetrics(plan: ConnectPlan, r: ConnectWorkerResult, seed = 1): ConnectProbeResult {
  const k = samplesByKind(plan, r.us);
  const metrics: Record<string, Metric> = {
    'connect.vip': distribution(k.vip),
    'connect.vip.worst': distribution(k.worst),
    'connect.direct': distribution(k.direct),
  };
  for (const [name, xs] of [['connect.natCost', k.vip], ['connect.natCost.worst', k.worst]] as const) {
    const d = pairedDifference(xs, k.direct, seed);
    if (!d) continue;
    metrics[name] = { unit: 'us', value: d.median };
    metrics[`${name}.ci95Low`] = { unit: 'us', value: d.ciLow };
    metrics[`${name}.ci95High`] = { unit: 'us', value: d.ciHigh };
  }
  const measured = plan.ops.filter((op) => op.round >= plan.warmupRounds).length;
  const errors = [...k.vip, ...k.worst, ...k.direct].filter((x) => x < 0).length;
  metrics['connect.errors'] = { unit: 'count', value: errors };
  const vipConnections = plan.ops.filter((op, i) => op.kind !== 'direct' && (r.us[i] ?? -1) >= 0).length;
  return { metrics, errors, attempts: measured, vipConnections };
}

/**
 * TCP connect time (SYN sent → established) through service VIPs and directly to pods, measured
 * in the client pod (its netns and cgroup, so socket-level eBPF applies).
 */
export async function runConnectProbe(
  services: readonly ServiceSpec[],
  podIps: readonly string[],
  podPort: number,
  o: ConnectProbeOptions,
  where: Placement,
  seed = 1,
  signal?: AbortSignal,
): Promise<ConnectProbeResult> {
  const plan = connectPlan(services, podIps, podPort, o, seed);
  const input: ConnectWorkerInput = { ops: plan.ops, gapMs: o.gap * 1000, timeoutMs: o.timeout * 1000 };
  const r = await runWorker<ConnectWorkerInput, ConnectWorkerResult>(siblingModule(import.meta.url, 'connect-worker'), input, where, signal);
  return { ...connectMetrics(plan, r, seed), errorCodes: r.errors };
}
