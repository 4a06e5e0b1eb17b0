import { describe, expect, it } from 'vitest';
import { ETCD_DISK_THRESHOLDS, judgeDisk } from '../../../src/probes/disk-verdict.js';
import { newHistogram, toDistribution } from '../../../src/results/histogram.js';
import type { Metric } from '../../../src/results/model.js';

function hdrWithP99(p99us: number): Metric {
  const h = newHistogram();
  for (let i = 0; i < 980; i++) h.recordValue(200);
  for (let i = 0; i < 20; i++) h.recordValue(p99us);
  return toDistribution(h);
}

const bucketDist = (p99: number, bounds: [number, number | null]): Metric =>
  ({ unit: 'us', count: 100, p50: 500, p90: 900, p95: 1000, p99, p999: p99, max: bounds[1] ?? p99, hdr: '', note: 'bucket-interpolated', bucketBounds: { p99: bounds } }) as Metric;

describe('disk verdicts', () => {
  it('names a source URL on etcd.io for every threshold', () => {
    for (const t of ETCD_DISK_THRESHOLDS) {
      expect(t.source.url).toMatch(/^https:\/\/etcd\.io\/docs\//);
      expect(t.source.says.length).toBeGreaterThan(20);
    }
    expect(ETCD_DISK_THRESHOLDS.map((t) => [t.id, t.max ?? t.min])).toEqual([
      ['probe-fdatasync-p99', 10_000], ['probe-iops-50', 50], ['probe-iops-500', 500],
      ['etcd-wal-fsync-p99', 10_000], ['etcd-backend-commit-p99', 25_000],
    ]);
  });

  it('passes and fails on the measured numbers, and leaves unmeasured ones open', () => {
    const v = judgeDisk({ 'disk.fdatasync': hdrWithP99(12_000), 'disk.writeIops': { unit: 'iops', value: 320 } });
    const by = Object.fromEntries(v.map((x) => [x.id, x]));
    expect(by['probe-fdatasync-p99']).toMatchObject({ pass: false, certainty: 'exact' });
    expect(by['probe-fdatasync-p99']!.value).toBeGreaterThanOrEqual(11_990);
    expect(by['probe-iops-50']).toMatchObject({ pass: true, value: 320 });
    expect(by['probe-iops-500']).toMatchObject({ pass: false, level: 'heavy' });
    expect(by['etcd-wal-fsync-p99']).toMatchObject({ pass: null, value: null, certainty: null });
    expect(judgeDisk({ 'disk.fdatasync': hdrWithP99(1_800) })[0]).toMatchObject({ pass: true });
  });

  it('says when a bucket verdict rests on interpolation', () => {
    const pass = judgeDisk({ 'etcd.walFsync': bucketDist(6_000, [4_000, 8_000]) }).find((v) => v.id === 'etcd-wal-fsync-p99');
    expect(pass).toMatchObject({ pass: true, certainty: 'bucket-bound' });
    const inside = judgeDisk({ 'etcd.walFsync': bucketDist(9_000, [8_000, 16_000]) }).find((v) => v.id === 'etcd-wal-fsync-p99');
    expect(inside).toMatchObject({ pass: true, certainty: 'interpolated' });
    const fail = judgeDisk({ 'etcd.backendCommit': bucketDist(40_000, [32_000, 64_000]) }).find((v) => v.id === 'etcd-backend-commit-p99');
    expect(fail).toMatchObject({ pass: false, certainty: 'bucket-bound' });
  });
});
