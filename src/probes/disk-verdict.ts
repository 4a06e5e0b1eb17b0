import { isDistribution, type Metric } from '../results/metric.js';

export interface ThresholdSource {
  title: string;
  url: string;
  /** The guidance as etcd words it, paraphrased closely enough to find it on the page. */
  says: string;
}

export interface Threshold {
  id: string;
  /** Name of a metric in DiskProbeResult.metrics. */
  metric: string;
  stat: 'p99' | 'value';
  /** Pass when value < max, or value >= min. µs for latencies. */
  max?: number;
  min?: number;
  unit: 'us' | 'iops';
  label: string;
  /** required: etcd's baseline; heavy: what etcd recommends for heavily loaded clusters. */
  level: 'required' | 'heavy';
  source: ThresholdSource;
}

export interface Verdict {
  id: string;
  label: string;
  level: Threshold['level'];
  metric: string;
  stat: Threshold['stat'];
  /** The measured value, null when the metric was not measured (e.g. --no-etcd). */
  value: number | null;
  threshold: { max?: number; min?: number; unit: Threshold['unit'] };
  /** null when not measured. */
  pass: boolean | null;
  /**
   * exact: from an HDR histogram or a count. bucket-bound: from Prometheus buckets, but the whole
   * bucket holding the percentile is on one side of the threshold. interpolated: the threshold
   * falls inside that bucket, so the verdict rests on histogram_quantile's interpolation.
   */
  certainty: 'exact' | 'bucket-bound' | 'interpolated' | null;
  source: ThresholdSource;
}

const FAQ: Omit<ThresholdSource, 'says'> = { title: 'etcd FAQ (Performance)', url: 'https://etcd.io/docs/v3.5/faq/' };
const HARDWARE: Omit<ThresholdSource, 'says'> = {
  title: 'etcd Hardware recommendations (Disks)',
  url: 'https://etcd.io/docs/v3.5/op-guide/hardware/#disks',
};
const WAL_SAYS = 'to rule out a slow disk, monitor wal_fsync_duration_seconds: p99 duration should be less than 10ms';

/**
 * etcd's published disk guidance, as data. The probe's fdatasync p99 is judged against the WAL
 * fsync bound because the probe replays the WAL's write pattern (etcd's own fio recipe checks
 * fio's fdatasync p99 against the same 10 ms).
 */
export const ETCD_DISK_THRESHOLDS: readonly Threshold[] = [
  {
    id: 'probe-fdatasync-p99', metric: 'disk.fdatasync', stat: 'p99', max: 10_000, unit: 'us', level: 'required',
    label: 'fdatasync p99 < 10 ms', source: { ...FAQ, says: WAL_SAYS },
  },
  {
    id: 'probe-iops-50', metric: 'disk.writeIops', stat: 'value', min: 50, unit: 'iops', level: 'required',
    label: 'sequential IOPS >= 50',
    source: { ...HARDWARE, says: 'typically 50 sequential IOPS (e.g., a 7200 RPM disk) is required' },
  },
  {
    id: 'probe-iops-500', metric: 'disk.writeIops', stat: 'value', min: 500, unit: 'iops', level: 'heavy',
    label: 'sequential IOPS >= 500 (heavy clusters)',
    source: { ...HARDWARE, says: 'for heavily loaded clusters, 500 sequential IOPS (e.g., a typical local SSD or a high performance virtualized block device) is recommended' },
  },
  {
    id: 'etcd-wal-fsync-p99', metric: 'etcd.walFsync', stat: 'p99', max: 10_000, unit: 'us', level: 'required',
    label: 'etcd WAL fsync p99 < 10 ms', source: { ...FAQ, says: WAL_SAYS },
  },
  {
    id: 'etcd-backend-commit-p99', metric: 'etcd.backendCommit', stat: 'p99', max: 25_000, unit: 'us', level: 'required',
    label: 'etcd backend commit p99 < 25 ms',
    source: { ...FAQ, says: 'to rule out a slow disk, monitor backend_commit_duration_seconds: p99 duration should be less than 25ms' },
  },
];

type BucketBounds = { bucketBounds?: { p99?: [number, number | null] } };

function certaintyOf(metric: Metric, t: Threshold): Verdict['certainty'] {
  const bounds = (metric as BucketBounds).bucketBounds?.p99;
  if (!isDistribution(metric) || metric.hdr !== '' || !bounds || t.max === undefined) return 'exact';
  const [lo, hi] = bounds;
  if (hi !== null && hi < t.max) return 'bucket-bound';
  if (lo >= t.max) return 'bucket-bound';
  return 'interpolated';
}

/** Judges measured metrics against each threshold; a metric that was not measured gets pass: null. */
export function judgeDisk(metrics: Readonly<Record<string, Metric>>, thresholds: readonly Threshold[] = ETCD_DISK_THRESHOLDS): Verdict[] {
  return thresholds.map((t) => {
    const m = metrics[t.metric];
    const value = m === undefined ? null : t.stat === 'value' ? ('value' in m ? m.value : null) : isDistribution(m) && m.count > 0 ? m[t.stat] : null;
    const pass = value === null ? null : (t.max === undefined || value < t.max) && (t.min === undefined || value >= t.min);
    const threshold: Verdict['threshold'] = { unit: t.unit };
    if (t.max !== undefined) threshold.max = t.max;
    if (t.min !== undefined) threshold.min = t.min;
    return {
      id: t.id, label: t.label, level: t.level, metric: t.metric, stat: t.stat, value, threshold, pass,
      certainty: value === null || !m ? null : certaintyOf(m, t),
      source: t.source,
    };
  });
}
