import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { afterAll, describe, expect, it } from 'vitest';
import { DpbenchError } from '../../../src/errors.js';
import { parseHistogram, scrapeMetrics } from '../../../src/etcd/metrics.js';
import { startEtcd } from '../../../src/etcd/server.js';
import { exec } from '../../../src/util/exec.js';

const base = mkdtempSync('/var/tmp/dpbench-etcd-test-');
afterAll(() => rmSync(base, { recursive: true, force: true }));

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('startEtcd (real etcd)', () => {
  it('serves on loopback only, exposes disk metrics, and stops by PID', async () => {
    const dataDir = join(base, 'data');
    const etcd = await startEtcd({ dataDir });
    try {
      expect(etcd.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(etcd.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      expect(etcd.version).toMatch(/^3\.\d+\.\d+/);
      const client = new Etcd3({ hosts: etcd.endpoint });
      try {
        await client.put('/dpbench/test').value('hello');
        expect(await client.get('/dpbench/test').string()).toBe('hello');
      } finally {
        client.close();
      }
      const text = await scrapeMetrics(etcd.metricsUrl);
      expect(parseHistogram(text, 'etcd_disk_wal_fsync_duration_seconds')!.count).toBeGreaterThan(0);
      expect(parseHistogram(text, 'etcd_disk_backend_commit_duration_seconds')).toBeDefined();
      expect(readdirSync(dataDir)).toContain('member');
      // Every socket etcd listens on is bound to 127.0.0.1: client, peer and metrics.
      const ss = await exec(['ss', '-Hltnp']);
      const mine = ss.stdout.split('\n').filter((l) => l.includes(`pid=${etcd.pid},`));
      expect(mine.length).toBeGreaterThanOrEqual(3);
      for (const l of mine) expect(l.split(/\s+/)[3]).toMatch(/^127\.0\.0\.1:\d+$/);
    } finally {
      await etcd.stop();
    }
    expect(alive(etcd.pid)).toBe(false);
    await etcd.stop(); // a second stop is a no-op
  });

  it('runs two members side by side on different ports', async () => {
    const [a, b] = await Promise.all([startEtcd({ dataDir: join(base, 'a') }), startEtcd({ dataDir: join(base, 'b') })]);
    try {
      expect(a.endpoint).not.toBe(b.endpoint);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it('reports a missing binary as an environment problem with a hint', async () => {
    const err = await startEtcd({ dataDir: join(base, 'never'), binary: '/nonexistent/etcd' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DpbenchError);
    expect((err as DpbenchError).exitCode).toBe(3);
    expect((err as DpbenchError).hint).toMatch(/etcd-server/);
    expect(existsSync(join(base, 'never'))).toBe(false);
  });

  it('surfaces etcd\'s own error when it cannot start', async () => {
    const err = await startEtcd({ dataDir: join(base, 'bad'), extraArgs: ['--snapshot-count', 'not-a-number'] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DpbenchError);
    expect((err as Error).message).toMatch(/exited during startup/);
  });
});
