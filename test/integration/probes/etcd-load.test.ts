import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseHistogram, scrapeMetrics } from '../../../src/etcd/metrics.js';
import { startEtcd, type EtcdServer } from '../../../src/etcd/server.js';
import { runEtcdLoad, WAL_FSYNC_METRIC } from '../../../src/probes/etcd-load.js';

const base = mkdtempSync('/var/tmp/dpbench-etcdload-test-');
let etcd: EtcdServer;
beforeAll(async () => {
  etcd = await startEtcd({ dataDir: join(base, 'data') });
});
afterAll(async () => {
  await etcd?.stop();
  rmSync(base, { recursive: true, force: true });
});

describe('runEtcdLoad (real etcd, etcd3 client)', () => {
  it('makes exactly count puts and reads only the fsyncs they caused', async () => {
    const startupFsyncs = parseHistogram(await scrapeMetrics(etcd.metricsUrl), WAL_FSYNC_METRIC)!.count;
    expect(startupFsyncs).toBeGreaterThan(0);
    const r = await runEtcdLoad({ endpoint: etcd.endpoint, metricsUrl: etcd.metricsUrl, clients: 3, valueSize: 300, count: 150, maxDurationMs: 30_000 });
    expect(r.errors).toBe(0);
    expect(r.puts).toBe(150);
    expect(r.put.totalCount).toBe(150);
    // Every put is one raft entry that the WAL fsyncs; concurrent puts may share one fsync,
    // so the delta lies between 150/3 and 150 plus a few raft housekeeping entries.
    expect(r.walFsync.count).toBeGreaterThanOrEqual(50);
    expect(r.walFsync.count).toBeLessThanOrEqual(160);
    expect(r.backendCommit.count).toBeGreaterThan(0);
    const total = parseHistogram(await scrapeMetrics(etcd.metricsUrl), WAL_FSYNC_METRIC)!.count;
    expect(total - r.walFsync.count).toBeGreaterThanOrEqual(startupFsyncs);
  });

  it('stops at maxDuration even when count is far away', async () => {
    const r = await runEtcdLoad({ endpoint: etcd.endpoint, metricsUrl: etcd.metricsUrl, clients: 2, valueSize: 64, count: 1_000_000, maxDurationMs: 500 });
    expect(r.puts).toBeLessThan(1_000_000);
    expect(r.elapsedSeconds).toBeLessThan(5);
  });
});
