import type { Metric } from '../results/model.js';
import { decodeHistogram, toDistribution } from '../results/histogram.js';
import type { MaxRateResult } from './max-rate.js';
import type { ClosedLoopResult, GroupResult, OpenLoopResult } from './types.js';

/** Metric name of a target group: the VIP group is the headline `http.latency`. */
const suffix = (group: string) => (group === 'vip' ? '' : `.${group}`);
const round3 = (x: number) => Math.round(x * 1000) / 1000;

function groupMetrics(groups: readonly GroupResult[], m: Record<string, Metric>, serviceTime: boolean): void {
  let requests = 0;
  let errors = 0;
  for (const g of groups) {
    const s = suffix(g.name);
    m[`http.latency${s}`] = toDistribution(decodeHistogram(g.latency));
    if (serviceTime) m[`http.serviceTime${s}`] = toDistribution(decodeHistogram(g.serviceTime));
    if (g.connect) m[`http.connect${s}`] = toDistribution(decodeHistogram(g.connect));
    const e = Object.values(g.errors).reduce((a, b) => a + b, 0);
    requests += g.ok + e;
    errors += e;
    for (const [kind, n] of Object.entries(g.errors)) m[`http.errors${s}.${kind}`] = { unit: 'count', value: n };
  }
  m['http.requests'] = { unit: 'count', value: requests };
  m['http.errors'] = { unit: 'count', value: errors };
  m['http.errorRate'] = { unit: 'ratio', value: requests ? errors / requests : 0 };
}

/** Turns an engine result into run.json metrics. */
export function openLoopMetrics(r: OpenLoopResult): Record<string, Metric> {
  const m: Record<string, Metric> = {};
  groupMetrics(r.groups, m, true);
  m['http.scheduleLag'] = toDistribution(decodeHistogram(r.scheduleLag));
  m['http.targetRps'] = { unit: 'req/s', value: r.targetRps };
  m['http.achievedRps'] = { unit: 'req/s', value: Math.round(r.achievedRps * 10) / 10 };
  m['generator.cpu'] = { unit: 'cores', value: round3(r.cpu) };
  m['generator.busy'] = { unit: 'ratio', value: round3(r.busy) };
  if (r.cpuWait !== undefined) m['generator.cpuWait'] = { unit: 'ratio', value: round3(r.cpuWait) };
  if (r.maxRssBytes !== undefined) m['generator.maxRss'] = { unit: 'bytes', value: r.maxRssBytes };
  if (r.gcShare !== undefined) m['generator.gcShare'] = { unit: 'ratio', value: round3(r.gcShare) };
  if (r.gcMaxPauseUs !== undefined) m['generator.gcMaxPause'] = { unit: 'us', value: r.gcMaxPauseUs };
  if (r.workers !== undefined) m['generator.workers'] = { unit: 'count', value: r.workers };
  return m;
}

/**
 * Closed-loop metrics. `http.latency` is the response time from the actual send: with no schedule
 * there is no intended time, so there is no separate service time and no schedule lag.
 */
export function closedLoopMetrics(r: ClosedLoopResult): Record<string, Metric> {
  const m: Record<string, Metric> = {};
  groupMetrics(r.groups, m, false);
  m['http.achievedRps'] = { unit: 'req/s', value: Math.round(r.achievedRps * 10) / 10 };
  m['generator.cpu'] = { unit: 'cores', value: round3(r.cpu) };
  m['generator.cpuWait'] = { unit: 'ratio', value: round3(r.cpuWait) };
  m['generator.maxRss'] = { unit: 'bytes', value: r.maxRssBytes };
  return m;
}

/**
 * The max-sustainable-rate search as metrics: the answer, how many trials it took, and the lowest
 * rate that failed (absent when none did), so the answer's bracket is on record.
 */
export function maxRateMetrics(r: MaxRateResult): Record<string, Metric> {
  const m: Record<string, Metric> = {
    'http.maxRateAtSlo': { unit: 'req/s', value: Math.round(r.maxRate) },
    'http.maxRateSteps': { unit: 'count', value: r.steps.length },
  };
  const failed = r.steps.filter((s) => !s.pass).map((s) => s.rate);
  if (failed.length) m['http.maxRateFailedAt'] = { unit: 'req/s', value: Math.round(Math.min(...failed)) };
  return m;
}
