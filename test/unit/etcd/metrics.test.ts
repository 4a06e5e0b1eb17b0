import { describe, expect, it } from 'vitest';
import { bucketQuantile, histogramDelta, parseHistogram, quantileBucket, toBucketDistribution } from '../../../src/etcd/metrics.js';

/** Prometheus text as etcd 3.4.23 writes it (captured from a real member, counts edited per test). */
function etcdText(name: string, cumulative: Record<string, number>, sum: number): string {
  const lines = [`# HELP ${name} The latency distributions of fsync called by WAL.`, `# TYPE ${name} histogram`];
  for (const [le, c] of Object.entries(cumulative)) lines.push(`${name}_bucket{le="${le}"} ${c}`);
  lines.push(`${name}_sum ${sum}`, `${name}_count ${cumulative['+Inf']}`);
  lines.push('# HELP etcd_server_has_leader Whether or not a leader exists.', '# TYPE etcd_server_has_leader gauge', 'etcd_server_has_leader 1');
  return `${lines.join('\n')}\n`;
}

const WAL = 'etcd_disk_wal_fsync_duration_seconds';
const startup = { '0.001': 2, '0.002': 2, '0.004': 5, '0.008': 7, '0.016': 7, '0.032': 7, '+Inf': 7 };
const afterLoad = { '0.001': 82, '0.002': 92, '0.004': 97, '0.008': 105, '0.016': 107, '0.032': 107, '+Inf': 107 };

describe('etcd metrics', () => {
  it('reads a histogram out of real etcd text, ignoring other families', () => {
    const h = parseHistogram(etcdText(WAL, startup, 0.023463047999999997), WAL)!;
    expect(h.count).toBe(7);
    expect(h.sum).toBeCloseTo(0.02346, 5);
    expect(h.buckets.map((b) => b.le)).toEqual([0.001, 0.002, 0.004, 0.008, 0.016, 0.032, Infinity]);
    expect(parseHistogram(etcdText(WAL, startup, 0), 'etcd_disk_backend_commit_duration_seconds')).toBeUndefined();
    expect(() => parseHistogram(etcdText(WAL, startup, 0), 'etcd_server_has_leader')).toThrow(/gauge, not a histogram/);
  });

  it('subtracts the startup scrape so only the load counts', () => {
    const d = histogramDelta(parseHistogram(etcdText(WAL, afterLoad, 1.2), WAL)!, parseHistogram(etcdText(WAL, startup, 0.2), WAL)!);
    expect(d.count).toBe(100);
    expect(d.sum).toBeCloseTo(1.0, 9);
    expect(d.buckets.map((b) => b.count)).toEqual([80, 90, 92, 98, 100, 100, 100]);
    expect(() => histogramDelta(parseHistogram(etcdText(WAL, startup, 0.2), WAL)!, parseHistogram(etcdText(WAL, afterLoad, 1.2), WAL)!)).toThrow(/went down/);
  });

  it('interpolates inside the bucket as histogram_quantile does', () => {
    const d = histogramDelta(parseHistogram(etcdText(WAL, afterLoad, 1.2), WAL)!, parseHistogram(etcdText(WAL, startup, 0.2), WAL)!);
    expect(bucketQuantile(d, 0.5)).toBeCloseTo(0.001 * (50 / 80), 12); // rank 50 of 80 in [0, 1ms]
    expect(bucketQuantile(d, 0.9)).toBeCloseTo(0.002, 12); // rank 90 is the top of [1ms, 2ms]
    expect(bucketQuantile(d, 0.99)).toBeCloseTo(0.008 + 0.008 * (1 / 2), 12); // rank 99: 1 of 2 in [8ms, 16ms]
    expect(quantileBucket(d, 0.99)).toEqual([0.008, 0.016]);
    const dist = toBucketDistribution(d);
    expect(dist).toMatchObject({ unit: 'us', count: 100, p50: 625, p90: 2000, p99: 12000, max: 16000, mean: 10000, hdr: '' });
    expect(dist.note).toMatch(/bucket-interpolated/);
    expect(dist.bucketBounds.p99).toEqual([8000, 16000]);
  });

  it('answers the highest finite bound when the rank is in +Inf, like Prometheus', () => {
    const h = parseHistogram(etcdText(WAL, { '0.001': 1, '0.002': 1, '+Inf': 10 }, 50), WAL)!;
    expect(bucketQuantile(h, 0.99)).toBe(0.002);
    expect(toBucketDistribution(h).bucketBounds.p99).toEqual([2000, null]);
  });

  it('gives zeros, not NaN, for an empty window', () => {
    const h = parseHistogram(etcdText(WAL, startup, 0.02), WAL)!;
    const d = toBucketDistribution(histogramDelta(h, h));
    expect(d).toMatchObject({ count: 0, p50: 0, p99: 0, max: 0, mean: 0 });
  });
});
