/**
 * kube-proxy's own account of its programming latency, from its Prometheus /metrics:
 * - kubeproxy_network_programming_duration_seconds: from the EndpointSlice's
 *   last-change-trigger-time annotation to the rules being written (end to end, as SIG
 *   Scalability's SLI defines it);
 * - kubeproxy_sync_proxy_rules_duration_seconds: one sync loop (iptables-restore / nft -f).
 */

export interface PromHistogram {
  /** Upper bound (seconds) → cumulative count, sorted by bound; the last bound is +Inf. */
  buckets: { le: number; count: number }[];
  count: number;
  sum: number;
}

export interface KubeProxyProgramming {
  networkProgramming: PromHistogram;
  syncProxyRules: PromHistogram;
}

const empty = (): PromHistogram => ({ buckets: [], count: 0, sum: 0 });

/** Parses one histogram family from Prometheus text exposition; labels other than `le` are summed over. */
export function parsePromHistogram(text: string, name: string): PromHistogram {
  const h = empty();
  const byLe = new Map<number, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^(\w+)(\{[^}]*\})? (\S+)/.exec(line);
    if (!m) continue;
    const [, metric, labels = '', value] = m;
    const v = Number(value);
    if (metric === `${name}_bucket`) {
      const le = /le="([^"]+)"/.exec(labels)?.[1];
      if (le === undefined) continue;
      const bound = le === '+Inf' ? Infinity : Number(le);
      byLe.set(bound, (byLe.get(bound) ?? 0) + v);
    } else if (metric === `${name}_count`) h.count += v;
    else if (metric === `${name}_sum`) h.sum += v;
  }
  h.buckets = [...byLe.entries()].sort((a, b) => a[0] - b[0]).map(([le, count]) => ({ le, count }));
  return h;
}

export function parseKubeProxyProgramming(text: string): KubeProxyProgramming {
  return {
    networkProgramming: parsePromHistogram(text, 'kubeproxy_network_programming_duration_seconds'),
    syncProxyRules: parsePromHistogram(text, 'kubeproxy_sync_proxy_rules_duration_seconds'),
  };
}

/** What happened between two scrapes of the same process (counters only grow). */
export function histogramDelta(after: PromHistogram, before: PromHistogram): PromHistogram {
  const prev = new Map(before.buckets.map((b) => [b.le, b.count]));
  return {
    buckets: after.buckets.map((b) => ({ le: b.le, count: b.count - (prev.get(b.le) ?? 0) })),
    count: after.count - before.count,
    sum: after.sum - before.sum,
  };
}

/**
 * Prometheus' histogram_quantile: linear interpolation inside the bucket holding the rank. It is
 * only as precise as the bucket bounds, which reports must say next to the figure.
 */
export function histogramQuantile(h: PromHistogram, q: number): number | undefined {
  if (h.count <= 0 || h.buckets.length === 0) return undefined;
  const rank = q * h.count;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of h.buckets) {
    if (b.count >= rank) {
      if (b.le === Infinity) return prevLe;
      const inBucket = b.count - prevCount;
      return inBucket === 0 ? b.le : prevLe + ((b.le - prevLe) * (rank - prevCount)) / inBucket;
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return prevLe;
}
