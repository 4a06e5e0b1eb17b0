import { createRequire } from 'node:module';
import { internal } from '../errors.js';
import type { Distribution } from '../results/model.js';

/** One Prometheus histogram, cumulative buckets sorted by upper bound (the last one is +Inf). */
export interface BucketHistogram {
  name: string;
  /** Upper bounds in the metric's own unit (seconds for etcd). */
  buckets: Array<{ le: number; count: number }>;
  count: number;
  sum: number;
}

/** A Distribution computed from buckets, not from samples; `note` says so wherever it is shown. */
export type BucketDistribution = Distribution & { note: string; bucketBounds: { p99: [number, number | null] } };
/* bucketBounds.p99 is the bucket the p99 falls in (µs); null upper edge means past the last bound. */

interface ParsedFamily {
  name: string;
  type: string;
  metrics: Array<{ labels?: Record<string, string>; buckets?: Record<string, string>; count?: string; sum?: string }>;
}

// parse-prometheus-text-format ships CommonJS without type declarations; the shape above is what
// it documents, and the unit tests check it against real etcd output.
const parsePrometheus = createRequire(import.meta.url)('parse-prometheus-text-format') as (text: string) => ParsedFamily[];

/**
 * Reads one histogram from Prometheus text. Series with different labels are summed, which is
 * what histogram_quantile(sum by (le)) does; etcd's disk histograms carry no labels anyway.
 */
export function parseHistogram(text: string, name: string): BucketHistogram | undefined {
  const family = parsePrometheus(text).find((f) => f.name === name);
  if (!family) return undefined;
  if (family.type !== 'HISTOGRAM') {
    throw internal(`${name} is a ${family.type.toLowerCase()}, not a histogram`, 'check the metric name against the server version');
  }
  const byLe = new Map<number, number>();
  let count = 0;
  let sum = 0;
  for (const m of family.metrics) {
    for (const [le, c] of Object.entries(m.buckets ?? {})) {
      const bound = le === '+Inf' ? Infinity : Number(le);
      byLe.set(bound, (byLe.get(bound) ?? 0) + Number(c));
    }
    count += Number(m.count ?? 0);
    sum += Number(m.sum ?? 0);
  }
  const buckets = [...byLe].map(([le, c]) => ({ le, count: c })).sort((a, b) => a.le - b.le);
  return { name, buckets, count, sum };
}

/** Observations made between two scrapes, so that startup fsyncs do not count. */
export function histogramDelta(after: BucketHistogram, before: BucketHistogram | undefined): BucketHistogram {
  if (!before) return after;
  const prior = new Map(before.buckets.map((b) => [b.le, b.count]));
  const buckets = after.buckets.map((b) => ({ le: b.le, count: b.count - (prior.get(b.le) ?? 0) }));
  if (buckets.some((b) => b.count < 0) || after.count < before.count) {
    throw internal(`${after.name} went down between two scrapes`, 'the server restarted during the measurement; run again');
  }
  return { name: after.name, buckets, count: after.count - before.count, sum: after.sum - before.sum };
}

/** The bucket holding quantile q: its lower and upper bound (upper is Infinity past the last bound). */
export function quantileBucket(h: BucketHistogram, q: number): [number, number] {
  const rank = q * h.count;
  let lower = 0;
  for (const b of h.buckets) {
    if (b.count >= rank) return [lower, b.le];
    lower = b.le;
  }
  return [lower, Infinity];
}

/**
 * Prometheus histogram_quantile semantics: linear interpolation inside the bucket that holds the
 * rank, assuming observations spread evenly in it. With etcd's doubling buckets (1, 2, 4, 8, 16 ms)
 * the true value can sit anywhere in the bucket, which is why callers get the bounds as well.
 */
export function bucketQuantile(h: BucketHistogram, q: number): number {
  if (h.count === 0) return NaN;
  const rank = q * h.count;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const b of h.buckets) {
    if (b.count >= rank) {
      // Past the last finite bound there is no upper edge to interpolate to.
      if (b.le === Infinity) return lowerBound;
      const inBucket = b.count - lowerCount;
      return inBucket === 0 ? b.le : lowerBound + (b.le - lowerBound) * ((rank - lowerCount) / inBucket);
    }
    lowerBound = b.le;
    lowerCount = b.count;
  }
  return lowerBound;
}

/**
 * Converts a seconds histogram into the run.json Distribution shape in µs. `hdr` is empty: the
 * samples are gone, and an HDR histogram rebuilt from bucket edges would claim a resolution the
 * data does not have. `max` is the upper edge of the highest non-empty bucket, an upper bound.
 */
export function toBucketDistribution(h: BucketHistogram, scaleToMicros = 1e6): BucketDistribution {
  const q = (p: number) => (h.count ? round1(bucketQuantile(h, p) * scaleToMicros) : 0);
  let maxEdge = 0;
  let prev = 0;
  for (const b of h.buckets) {
    if (b.count > prev) maxEdge = b.le;
    prev = b.count;
  }
  const [lo, hi] = h.count ? quantileBucket(h, 0.99) : [0, 0];
  return {
    unit: 'us',
    count: h.count,
    mean: h.count ? round1((h.sum / h.count) * scaleToMicros) : 0,
    p50: q(0.5),
    p90: q(0.9),
    p95: q(0.95),
    p99: q(0.99),
    p999: q(0.999),
    max: Number.isFinite(maxEdge) ? round1(maxEdge * scaleToMicros) : round1(lastFinite(h) * scaleToMicros),
    hdr: '',
    note: 'bucket-interpolated from Prometheus buckets (histogram_quantile); max is a bucket upper edge',
    bucketBounds: { p99: [round1(lo * scaleToMicros), Number.isFinite(hi) ? round1(hi * scaleToMicros) : null] },
  };
}

function lastFinite(h: BucketHistogram): number {
  const finite = h.buckets.filter((b) => Number.isFinite(b.le));
  return finite.at(-1)?.le ?? 0;
}

const round1 = (v: number) => Math.round(v * 10) / 10;

/** Scrapes a /metrics endpoint once. */
export async function scrapeMetrics(url: string, timeoutMs = 5_000): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw internal(`${url} answered HTTP ${res.status}`, 'is the metrics listener up?');
  return res.text();
}
