import { randomBytes } from 'node:crypto';
import { Etcd3 } from 'etcd3';
import { internal } from '../errors.js';
import { histogramDelta, parseHistogram, scrapeMetrics, type BucketHistogram } from '../etcd/metrics.js';
import { newHistogram, type Histogram } from '../results/histogram.js';
import { exec } from '../util/exec.js';

export const WAL_FSYNC_METRIC = 'etcd_disk_wal_fsync_duration_seconds';
export const BACKEND_COMMIT_METRIC = 'etcd_disk_backend_commit_duration_seconds';

export interface EtcdLoadOptions {
  endpoint: string;
  metricsUrl: string;
  /** Concurrent clients, each with its own gRPC connection, each doing one put at a time. */
  clients: number;
  valueSize: number;
  /** Total puts across all clients. */
  count: number;
  maxDurationMs: number;
  signal?: AbortSignal;
}

export interface EtcdLoadResult {
  /** Client-observed put latency, µs. It includes the event loop of this process, unlike the disk numbers. */
  put: Histogram;
  puts: number;
  errors: number;
  firstError?: string;
  elapsedSeconds: number;
  walFsync: BucketHistogram;
  backendCommit: BucketHistogram;
}

async function scrapeDisk(url: string): Promise<{ wal?: BucketHistogram; commit?: BucketHistogram }> {
  const text = await scrapeMetrics(url);
  return { wal: parseHistogram(text, WAL_FSYNC_METRIC), commit: parseHistogram(text, BACKEND_COMMIT_METRIC) };
}

/**
 * Closed-loop puts through the real etcd3 client, bounded by count and time. The disk histograms
 * are the difference between a scrape before and one after, so only this load's fsyncs count.
 */
export async function runEtcdLoad(opts: EtcdLoadOptions): Promise<EtcdLoadResult> {
  const before = await scrapeDisk(opts.metricsUrl);
  const value = randomBytes(opts.valueSize);
  const put = newHistogram();
  const clients = Array.from({ length: opts.clients }, () => new Etcd3({ hosts: opts.endpoint, dialTimeout: 5_000 }));
  const deadline = performance.now() + opts.maxDurationMs;
  let issued = 0;
  let puts = 0;
  let errors = 0;
  let firstError: string | undefined;
  const start = performance.now();
  try {
    await Promise.all(clients.map(async (client, c) => {
      // Shared counter: clients take the next key until the total is reached, so a slow client does not stretch the run.
      while (issued < opts.count && performance.now() < deadline && !opts.signal?.aborted) {
        const i = issued++;
        const t0 = performance.now();
        try {
          await client.put(`/dpbench/disk/${c}/${i}`).value(value).exec();
          put.recordValue(Math.max(1, Math.round((performance.now() - t0) * 1000)));
          puts++;
        } catch (e) {
          errors++;
          firstError ??= (e as Error).message;
          if (errors > Math.max(10, opts.count / 10)) return;
        }
      }
    }));
  } finally {
    for (const c of clients) c.close();
  }
  const elapsedSeconds = (performance.now() - start) / 1000;
  const after = await scrapeDisk(opts.metricsUrl);
  if (!after.wal || !after.commit) {
    throw internal(`etcd's /metrics has no ${!after.wal ? WAL_FSYNC_METRIC : BACKEND_COMMIT_METRIC}`, 'this etcd version names its disk metrics differently; dpbench knows etcd 3.4 and later');
  }
  const result: EtcdLoadResult = {
    put,
    puts,
    errors,
    elapsedSeconds,
    walFsync: histogramDelta(after.wal, before.wal),
    backendCommit: histogramDelta(after.commit, before.commit),
  };
  if (firstError !== undefined) result.firstError = firstError;
  return result;
}

export const CHECK_PERF_PROFILES = ['s', 'm', 'l', 'xl'] as const;
export type CheckPerfProfile = (typeof CHECK_PERF_PROFILES)[number];

export interface CheckPerfResult {
  profile: CheckPerfProfile;
  pass: boolean;
  /** etcdctl's own PASS/FAIL lines, e.g. "PASS: Throughput is 150 writes/s". */
  lines: string[];
}

/** Runs `etcdctl check perf` (about a minute: etcdctl's duration is fixed) and keeps its verdict. */
export async function runCheckPerf(endpoint: string, profile: CheckPerfProfile, etcdctl = 'etcdctl'): Promise<CheckPerfResult> {
  const r = await exec([etcdctl, `--endpoints=${endpoint}`, 'check', 'perf', `--load=${profile}`], {
    allowFailure: true,
    timeoutMs: 180_000,
  });
  const lines = `${r.stdout}\n${r.stderr}`.split('\n').map((l) => l.trim()).filter((l) => /^(PASS|FAIL)\b/.test(l));
  if (lines.length === 0) {
    throw internal(`etcdctl check perf printed no verdict (exit ${r.code}): ${r.stderr.trim().slice(0, 500)}`, 'run the same etcdctl command by hand to see why');
  }
  return { profile, pass: r.code === 0 && !lines.some((l) => l.startsWith('FAIL')), lines };
}
