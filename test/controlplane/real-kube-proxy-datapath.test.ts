import { describe, expect, it } from 'vitest';
import { histogramDelta, histogramQuantile } from '../../src/controlplane/kube-proxy-metrics.js';
import { createRealKubeProxyDatapath } from '../../src/controlplane/real-kube-proxy-datapath.js';
import { backgroundServices } from '../../src/targets/lab/addressing.js';
import { curlVip, labWithControlPlane } from './lab-control-plane.js';

const PODS = 2;
const services = backgroundServices(21, 2, PODS);
const base = services.slice(0, 20);
const added = services[20]!;

describe('kubeProxy: real (the lab datapath programmed by real kube-proxy)', () => {
  const env = labWithControlPlane(PODS);

  for (const mode of ['iptables', 'nftables'] as const) {
    it(`${mode}: carries traffic and reports kube-proxy's own programming latency`, async () => {
      const dp = createRealKubeProxyDatapath(env.lab, { cp: env.cp, mode });
      expect(await dp.unavailable()).toBeNull();
      try {
        const info = await dp.install(base);
        expect(info.objects).toBeGreaterThan(base.length);
        const before = await dp.decisions();
        for (const s of base.slice(0, 10)) expect(await curlVip(env.lab, s.vip)).toBe('ok\n');
        expect((await dp.decisions()) - before).toBeGreaterThanOrEqual(10);

        const m0 = await dp.programming();
        const t0 = process.hrtime.bigint();
        await dp.addService(added);
        const blackBoxMs = Number(process.hrtime.bigint() - t0) / 1e6;
        expect(await curlVip(env.lab, added.vip)).toBe('ok\n');
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
        expect(await curlVip(env.lab, added.vip)).toBeNull();
      } finally {
        await dp.uninstall();
        await dp.uninstall();
      }
      expect(await curlVip(env.lab, base[0]!.vip)).toBeNull();
    });
  }
});
