import { toBucketDistribution } from '../etcd/metrics.js';
import type { Metric } from '../results/model.js';
import { histogramDelta, type KubeProxyProgramming, type PromHistogram } from './kube-proxy-metrics.js';

/**
 * What kube-proxy's buckets can resolve (v1.37 pkg/proxy/metrics): network programming has
 * bounds 0.25 s, 0.5 s, then every 1 s to 59 s; a sync has doubling bounds from 1 ms (1, 2, 4 … ms).
 * Quantiles are interpolated inside those buckets; the mean (sum/count) is exact.
 */
const NOTES = {
  networkProgramming:
    "kube-proxy's kubeproxy_network_programming_duration_seconds over the probe window: EndpointSlice trigger time → rules written, " +
    'adds only (kube-proxy does not time deletions); buckets 0.25 s, 0.5 s, then 1 s steps, quantiles bucket-interpolated, mean exact',
  syncProxyRules:
    "kube-proxy's kubeproxy_sync_proxy_rules_duration_seconds over the probe window: one sync (iptables-restore / nft -f), " +
    'every sync in the window (adds, removes, periodic); buckets double from 1 ms, quantiles bucket-interpolated, mean exact',
} as const;

const dist = (name: string, h: PromHistogram, note: string): Metric => ({ ...toBucketDistribution({ name, ...h }), note });

/**
 * kube-proxy's own programming latency between two scrapes taken around the programming probe,
 * next to the probe's black-box `programming.add` / `programming.remove` (µs, like them).
 */
export function kubeProxyProbeMetrics(before: KubeProxyProgramming, after: KubeProxyProgramming): Record<string, Metric> {
  return {
    'programming.kubeProxy.networkProgramming': dist(
      'kubeproxy_network_programming_duration_seconds',
      histogramDelta(after.networkProgramming, before.networkProgramming),
      NOTES.networkProgramming,
    ),
    'programming.kubeProxy.syncProxyRules': dist(
      'kubeproxy_sync_proxy_rules_duration_seconds',
      histogramDelta(after.syncProxyRules, before.syncProxyRules),
      NOTES.syncProxyRules,
    ),
  };
}
