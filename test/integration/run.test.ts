import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RunSchema, isDistribution, type Distribution } from '../../src/results/model.js';
import { runScenario } from '../../src/run.js';
import { loadScenario } from '../../src/scenario/load.js';
import { hostRules, labNamespaces } from './helpers/host.js';

describe('runScenario on the lab (root, real kernel, real traffic)', async () => {
  const out = await mkdtemp(join(tmpdir(), 'dpb-run-'));
  afterAll(() => rm(out, { recursive: true, force: true }));

  it('measures every datapath through its VIPs and directly, and skips IPVS with the reason', async () => {
    const rules = hostRules();
    const scenario = await loadScenario(join(import.meta.dirname, '..', 'fixtures', 'tiny.yaml'));
    const o = await runScenario(scenario, { outDir: out });
    const run = RunSchema.parse(JSON.parse(await readFile(o.runFile, 'utf8')));
    expect(run.trials).toHaveLength(8);

    const ipvs = run.trials.filter((t) => t.datapath === 'ipvs');
    const ipvsAvailable = ipvs.every((t) => t.status !== 'skipped');
    if (!ipvsAvailable) for (const t of ipvs) expect(t.reason).toMatch(/IP_VS/);

    for (const t of run.trials.filter((t) => t.datapath !== 'ipvs')) {
      // ok or invalid depends on how busy the machine is; failed/skipped would mean a broken datapath.
      expect(['ok', 'invalid'], `${t.id}: ${t.reason}`).toContain(t.status);
      expect(t.implementation).toMatch(new RegExp(`^lab: .*${t.datapath === 'ebpf' ? 'socket LB' : t.datapath}`));
      const vip = t.metrics['http.latency'] as Distribution;
      const direct = t.metrics['http.latency.direct'] as Distribution;
      expect(isDistribution(vip) && isDistribution(direct)).toBe(true);
      // 500 req/s for 1 s, split between VIP and direct.
      expect(vip.count).toBeGreaterThan(200);
      expect(direct.count).toBeGreaterThan(200);
      expect(vip.p50).toBeGreaterThan(0);
      const decisions = t.metrics['datapath.decisions']!;
      expect(isDistribution(decisions)).toBe(false);
      // Proof the traffic went through the datapath: one decision per new VIP connection.
      if (t.load.connection === 'new') expect((decisions as { value: number }).value).toBeGreaterThanOrEqual(vip.count);
      else expect((decisions as { value: number }).value).toBeGreaterThanOrEqual(1);
    }
    expect(o.markdown).toMatch(/\| iptables \| 50 \| nc \| new \|/);
    expect(await readFile(o.summaryFile, 'utf8')).toBe(o.markdown);
    expect(o.targetId).toMatch(/^[0-9a-f]{6}$/);
    expect(labNamespaces(o.targetId)).toEqual([]);
    expect(hostRules()).toBe(rules);
  });
});

describe('runScenario with probes.disk (root, real disk, real etcd)', async () => {
  const out = await mkdtemp(join(tmpdir(), 'dpb-run-disk-'));
  afterAll(() => rm(out, { recursive: true, force: true }));

  it('records the probe and etcd side by side in run.json and summary.md, without building a lab', async () => {
    const scenario = await loadScenario(join(import.meta.dirname, '..', 'fixtures', 'disk.yaml'));
    const o = await runScenario(scenario, { outDir: out });
    const run = RunSchema.parse(JSON.parse(await readFile(o.runFile, 'utf8')));
    expect(run.trials).toEqual([]);
    expect(o.targetId).toBeUndefined();
    const disk = run.hostProbes!.disk!;
    expect(['ok', 'invalid']).toContain(disk.status);
    const fsync = disk.metrics['disk.fdatasync'] as Distribution;
    expect(fsync.count).toBeGreaterThan(400); // 1 MiB in 2300-byte writes
    const wal = disk.metrics['etcd.walFsync'] as Distribution;
    expect(wal.count).toBeGreaterThan(0);
    expect(wal.note).toMatch(/bucket/);
    expect(o.markdown).toMatch(/## Disk \(etcd-style fdatasync\)/);
    expect(o.markdown).toMatch(/\| disk\.fdatasync \| \d+ \|/);
    expect(o.markdown).toMatch(/\| etcd\.walFsync \|/);
  });
});
