import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlPlane, type ControlPlane } from '../../src/controlplane/controlplane.js';
import { histogramDelta, histogramQuantile } from '../../src/controlplane/kube-proxy-metrics.js';
import { createRealKubeProxyDatapath } from '../../src/controlplane/real-kube-proxy-datapath.js';
import { backgroundServices } from '../../src/targets/lab/addressing.js';
import { labDown, labUp, type Lab } from '../../src/targets/lab/topology.js';
import { exec } from '../../src/util/exec.js';

const PODS = 2;
const services = backgroundServices(21, 2, PODS);
const base = services.slice(0, 20);
const added = services[20]!;

const curlVip = async (lab: Lab, vip: string) => {
  const r = await exec(['curl', '-s', '--max-time', '2', '-H', 'Connection: close', `http://${vip}:80/`], { netns: lab.clientNs, allowFailure: true });
  return r.code === 0 ? r.stdout : null;
};

describe('kubeProxy: real (the lab datapath programmed by real kube-proxy)', () => {
  let lab: Lab | undefined;
  let cp: ControlPlane | undefined;
  const pids: number[] = [];

  beforeAll(async () => {
    // iptables-legacy serialises on /run/xtables.lock, shared by every namespace on the machine;
    // iptables-nft does not, so other runs' big restores cannot stall kube-proxy's.
    lab = await labUp({ pods: PODS, iptables: 'nft' });
    // kube-proxy needs only the API; the controller manager is covered by controlplane.test.ts.
    cp = await startControlPlane({ controllerManager: false, onProcess: (p) => void pids.push(p.pid) });
  }, 240_000);

  afterAll(async () => {
    await cp?.stop();
    if (lab) await labDown(lab);
    for (const pid of pids) expect(existsSync(`/proc/${pid}`)).toBe(false);
  }, 120_000);

  for (const mode of ['iptables', 'nftables'] as const) {
    it(`${mode}: carries traffic and reports kube-proxy's own programming latency`, async () => {
      const dp = createRealKubeProxyDatapath(lab!, { cp: cp!, mode });
      expect(await dp.unavailable()).toBeNull();
      try {
        const info = await dp.install(base);
        expect(info.objects).toBeGreaterThan(base.length);
        const before = await dp.decisions();
        for (const s of base.slice(0, 10)) expect(await curlVip(lab!, s.vip)).toBe('ok\n');
        expect((await dp.decisions()) - before).toBeGreaterThanOrEqual(10);

        const m0 = await dp.programming();
        const t0 = process.hrtime.bigint();
        await dp.addService(added);
        const blackBoxMs = Number(process.hrtime.bigint() - t0) / 1e6;
        expect(await curlVip(lab!, added.vip)).toBe('ok\n');
        const m1 = await dp.programming();
        const np = histogramDelta(m1.networkProgramming, m0.networkProgramming);
        const sync = histogramDelta(m1.syncProxyRules, m0.syncProxyRules);
        expect(np.count).toBeGreaterThanOrEqual(1);
        expect(sync.count).toBeGreaterThanOrEqual(1);
        // kube-proxy's own figure ends when the rules are written; ours also includes the API
        // round trip and our poll, so it can only be larger (bucket resolution aside).
        const npP50 = histogramQuantile(np, 0.5)!;
        console.log(
          `${mode}: add 1 service to ${base.length}: black-box ${blackBoxMs.toFixed(1)} ms; ` +
            `kube-proxy network_programming mean ${((np.sum / np.count) * 1000).toFixed(1)} ms (p50≈${(npP50 * 1000).toFixed(0)} ms, n=${np.count}); ` +
            `sync_proxy_rules mean ${((sync.sum / sync.count) * 1000).toFixed(1)} ms (n=${sync.count}); ${dp.describe()}`,
        );
        expect(np.sum / np.count).toBeGreaterThan(0);
        expect(blackBoxMs / 1000).toBeGreaterThanOrEqual(sync.sum / sync.count);

        await dp.removeService(added);
        expect(await curlVip(lab!, added.vip)).toBeNull();
      } finally {
        await dp.uninstall();
        await dp.uninstall();
      }
      expect(await curlVip(lab!, base[0]!.vip)).toBeNull();
    });
  }
});
