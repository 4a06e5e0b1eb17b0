import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RunSchema, isDistribution, type Distribution, type Scalar } from '../../src/results/model.js';
import { runScenario } from '../../src/run.js';
import { parseScenario } from '../../src/scenario/load.js';
import { STATE_ROOT, type LabState } from '../../src/targets/lab/state.js';
import { hostRules, labNamespaces } from '../integration/helpers/host.js';

const scenario = (probe: string) =>
  parseScenario(
    `name: kube-proxy-real-test
datapaths: [iptables, nftables]
services: { counts: [20], endpoints: 2 }
lab: { kubeProxy: real, iptables: nft }
loads:
  - { name: ka, rate: 200, duration: 2s, warmup: 500ms, connections: 4, connection: keepalive }
probes:
  programming: { changes: ${probe}, timeout: 30s }
`,
    'test.yaml',
  );

/**
 * Every process the lab records (etcd, kube-apiserver, each kube-proxy), read from its state file
 * while the run is on, so the test can check afterwards that each one is gone.
 */
function recorder() {
  const seen = new Map<number, string>();
  let labId: string | undefined;
  const onProgress = (line: string) => {
    labId ??= /^lab ([0-9a-f]{6}):/.exec(line)?.[1];
    if (!labId) return;
    try {
      const s = JSON.parse(readFileSync(join(STATE_ROOT, labId, 'state.json'), 'utf8')) as LabState;
      for (const p of s.processes) seen.set(p.pid, p.comm);
    } catch {
      // not written yet, or already removed by teardown
    }
  };
  return { seen, onProgress };
}

describe('runScenario with lab.kubeProxy: real', async () => {
  const out = await mkdtemp(join(tmpdir(), 'dpb-kpreal-'));
  afterAll(() => rm(out, { recursive: true, force: true }));

  it("carries traffic through kube-proxy's rules, reports its own programming latency, leaves nothing", async () => {
    const rules = hostRules();
    const rec = recorder();
    const o = await runScenario(scenario('3'), { outDir: out, onProgress: rec.onProgress });
    const run = RunSchema.parse(JSON.parse(await readFile(o.runFile, 'utf8')));
    expect(run.trials.map((t) => t.id)).toEqual(['iptables-20-ka-r1', 'iptables-20-probes-r1', 'nftables-20-ka-r1', 'nftables-20-probes-r1']);

    for (const t of run.trials) {
      expect(t.implementation).toMatch(new RegExp(`^lab: real kube-proxy v1\\.\\d+\\.\\d+ ${t.datapath}`));
      if (t.load.name === 'ka') {
        // A busy shared machine can make the generator late (not the datapath's doing); anything else must not happen.
        if (t.status !== 'ok') expect(t.reason, t.id).toMatch(/^generator schedule lag[^;]*$/);
        const decisions = t.metrics['datapath.decisions'] as Scalar;
        expect(decisions.value, `${t.id}: connections DNATed by kube-proxy's rules`).toBeGreaterThan(0);
        const vip = t.metrics['http.latency'] as Distribution;
        expect(vip.count).toBeGreaterThan(100);
        console.log(`${t.id}: ${t.status}${t.reason ? ` (${t.reason})` : ''}; VIP p50 ${vip.p50} µs, datapath.decisions ${decisions.value}`);
        continue;
      }
      expect(t.status, `${t.id}: ${t.reason}`).toBe('ok');
      const add = t.metrics['programming.add'] as Distribution;
      const np = t.metrics['programming.kubeProxy.networkProgramming'] as Distribution;
      const sync = t.metrics['programming.kubeProxy.syncProxyRules'] as Distribution;
      expect(add.count).toBe(3);
      for (const m of [np, sync]) {
        expect(isDistribution(m)).toBe(true);
        expect(m.unit).toBe('us');
        expect(m.note).toMatch(/bucket-interpolated/);
        expect(m.p50).toBeGreaterThan(0);
        expect(m.mean).toBeGreaterThan(0);
      }
      // kube-proxy times adds only (one per added service's EndpointSlice), every sync in the window.
      expect(np.count).toBe(3);
      expect(sync.count).toBeGreaterThanOrEqual(3);
      // Its network programming ends when the rules are written; the black-box time also has
      // the watcher's first connection, so its mean cannot be much smaller (the scrape is exact for the mean).
      expect(np.mean!).toBeLessThan(add.mean! + 250_000);
      console.log(
        `${t.datapath}: programming.add p50 ${(add.p50 / 1000).toFixed(0)} ms (mean ${(add.mean! / 1000).toFixed(0)} ms); ` +
          `kube-proxy network_programming mean ${(np.mean! / 1000).toFixed(0)} ms (p50≈${(np.p50 / 1000).toFixed(0)} ms, n=${np.count}), ` +
          `sync_proxy_rules mean ${(sync.mean! / 1000).toFixed(0)} ms (p50≈${(sync.p50 / 1000).toFixed(0)} ms, n=${sync.count})`,
      );
    }

    // Nothing left: the lab's namespaces, and every process recorded in its state.
    expect(labNamespaces(o.targetId)).toEqual([]);
    const comms = [...rec.seen.values()];
    expect(comms).toEqual(expect.arrayContaining(['etcd', 'kube-apiserver', 'kube-proxy']));
    expect(comms.filter((c) => c === 'kube-proxy')).toHaveLength(2);
    // Each kube-proxy's API relay (a node process inside node-a) is recorded too.
    expect(comms.filter((c) => c === 'node')).toHaveLength(2);
    for (const [pid, comm] of rec.seen) expect(existsSync(`/proc/${pid}`), `${comm}(${pid}) still runs`).toBe(false);
    expect(hostRules()).toBe(rules);
  }, 240_000);

  it('skips (never fails) when kube-proxy is not built, saying how to build it', async () => {
    const saved = process.env.DPBENCH_K8S_BIN;
    const empty = await mkdtemp(join(tmpdir(), 'dpb-kpreal-nobin-'));
    process.env.DPBENCH_K8S_BIN = empty;
    try {
      const s = { ...scenario('1'), loads: [] };
      const o = await runScenario(s, { outDir: out });
      expect(o.run.trials).toHaveLength(2);
      for (const t of o.run.trials) {
        expect(t.status).toBe('skipped');
        expect(t.reason).toMatch(/kube-proxy v1\.\d+\.\d+ is not built.*bash scripts\/k8s\/build\.sh/);
      }
      expect(labNamespaces(o.targetId)).toEqual([]);
    } finally {
      if (saved === undefined) delete process.env.DPBENCH_K8S_BIN;
      else process.env.DPBENCH_K8S_BIN = saved;
      await rm(empty, { recursive: true, force: true });
    }
  }, 120_000);
});
