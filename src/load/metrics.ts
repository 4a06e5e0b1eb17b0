import type { Metric } from '../results/model.js';
import { decodeHistogram, toDistribution } from '../results/histogram.js';
import type { OpenLoopResult } from './types.js';

/** Metric name of a target group: the VIP group is the headline `http.latency`. */
const suffix = (group: string) => (group === 'vip' ? '' : `.${group}`);

/** Turns an engine result into run.json metrics. */
export function openLoopMetrics(r: OpenLoopResult): Record<string, Metric> {
  const m: Record<string, Metric> = {};
  let requests = 0;
  let errors = 0;
  for (const g of r.groups) {
    const s = suffix(g.name);
    m[`http.latency${s}`] = toDistribution(decodeHistogram(g.latency));
    m[`http.serviceTime${s}`] = toDistribution(decodeHistogram(g.serviceTime));
    const e = Object.values(g.errors).reduce((a, b) => a + b, 0);
    requests += g.ok + e;
    errors += e;
    for (const [kind, n] of Object.entries(g.errors)) m[`http.errors${s}.${kind}`] = { unit: 'count', value: n };
  }
  m['http.scheduleLag'] = toDistribution(decodeHistogram(r.scheduleLag));
  m['http.targetRps'] = { unit: 'req/s', value: r.targetRps };
  m['http.achievedRps'] = { unit: 'req/s', value: Math.round(r.achievedRps * 10) / 10 };
  m['http.requests'] = { unit: 'count', value: requests };
  m['http.errors'] = { unit: 'count', value: errors };
  m['http.errorRate'] = { unit: 'ratio', value: requests ? errors / requests : 0 };
  m['generator.cpu'] = { unit: 'cores', value: Math.round(r.cpu * 1000) / 1000 };
  m['generator.busy'] = { unit: 'ratio', value: Math.round(r.busy * 1000) / 1000 };
  return m;
}
