import { describe, expect, it } from 'vitest';
import { parseKubeProxyProgramming } from '../../../src/controlplane/kube-proxy-metrics.js';
import { kubeProxyProbeMetrics } from '../../../src/controlplane/kube-proxy-probe-metrics.js';
import { isDistribution, type Distribution } from '../../../src/results/model.js';

// The shape kube-proxy v1.37 exposes (bounds trimmed): network programming 0.25, 0.5, 1, 2 s …; sync 1, 2, 4 … ms.
const scrape = (np: number[], npSum: number, sync: number[], syncSum: number) => {
  const npLe = ['0.25', '0.5', '1', '2', '+Inf'];
  const syncLe = ['0.001', '0.002', '0.004', '0.008', '0.016', '0.032', '0.064', '0.128', '0.256', '+Inf'];
  return [
    '# TYPE kubeproxy_network_programming_duration_seconds histogram',
    ...npLe.map((le, i) => `kubeproxy_network_programming_duration_seconds_bucket{le="${le}"} ${np[i]}`),
    `kubeproxy_network_programming_duration_seconds_sum ${npSum}`,
    `kubeproxy_network_programming_duration_seconds_count ${np.at(-1)}`,
    '# TYPE kubeproxy_sync_proxy_rules_duration_seconds histogram',
    ...syncLe.map((le, i) => `kubeproxy_sync_proxy_rules_duration_seconds_bucket{le="${le}"} ${sync[i]}`),
    `kubeproxy_sync_proxy_rules_duration_seconds_sum ${syncSum}`,
    `kubeproxy_sync_proxy_rules_duration_seconds_count ${sync.at(-1)}`,
  ].join('\n');
};

describe('kubeProxyProbeMetrics', () => {
  it("turns the difference between two scrapes into µs distributions that say they come from buckets", () => {
    // Before: the initial sync. During the probe: 3 adds at 0.5–1 s, 6 syncs at 64–128 ms.
    const before = parseKubeProxyProgramming(scrape([0, 0, 0, 0, 0], 0, [0, 0, 0, 0, 0, 0, 0, 1, 1, 1], 0.1));
    const after = parseKubeProxyProgramming(scrape([0, 0, 3, 3, 3], 2.4, [0, 0, 0, 0, 0, 0, 0, 7, 7, 7], 0.1 + 6 * 0.09));
    const m = kubeProxyProbeMetrics(before, after);
    const np = m['programming.kubeProxy.networkProgramming'] as Distribution;
    const sync = m['programming.kubeProxy.syncProxyRules'] as Distribution;
    expect(isDistribution(np) && isDistribution(sync)).toBe(true);
    expect(np).toMatchObject({ unit: 'us', count: 3, mean: 800_000, p50: 750_000, hdr: '', bucketBounds: { p99: [500_000, 1_000_000] } });
    expect(np.note).toMatch(/adds only/);
    expect(sync).toMatchObject({ unit: 'us', count: 6, mean: 90_000, p50: 96_000, bucketBounds: { p99: [64_000, 128_000] } });
    expect(sync.note).toMatch(/every sync/);
  });

  it('reports zero observations as count 0, not as a number', () => {
    const same = parseKubeProxyProgramming(scrape([0, 0, 1, 1, 1], 0.7, [0, 0, 0, 0, 0, 0, 0, 1, 1, 1], 0.1));
    const m = kubeProxyProbeMetrics(same, same)['programming.kubeProxy.networkProgramming'] as Distribution;
    expect(m.count).toBe(0);
  });
});
