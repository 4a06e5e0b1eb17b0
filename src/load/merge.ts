import { encodeHistogram, mergeHistograms } from '../results/histogram.js';
import type { GroupResult, OpenLoopResult } from './types.js';

/**
 * One result from several generator processes. Histograms are merged and percentiles come from the
 * merge; counts and rates add up. `busy` and `cpuWait` take the worst worker, because one
 * starved worker is enough to spoil its share of the schedule.
 */
export function mergeOpenLoopResults(parts: readonly OpenLoopResult[]): OpenLoopResult {
  if (parts.length === 1) return parts[0]!;
  const names = [...new Set(parts.flatMap((p) => p.groups.map((g) => g.name)))];
  const groups: GroupResult[] = names.map((name) => {
    const gs = parts.flatMap((p) => p.groups.filter((g) => g.name === name));
    const errors: Record<string, number> = {};
    for (const g of gs) for (const [k, n] of Object.entries(g.errors)) errors[k] = (errors[k] ?? 0) + n;
    const connects = gs.flatMap((g) => (g.connect ? [g.connect] : []));
    return {
      name,
      latency: encodeHistogram(mergeHistograms(gs.map((g) => g.latency))),
      serviceTime: encodeHistogram(mergeHistograms(gs.map((g) => g.serviceTime))),
      ...(connects.length && { connect: encodeHistogram(mergeHistograms(connects)) }),
      ok: gs.reduce((s, g) => s + g.ok, 0),
      errors,
    };
  });
  const sum = (f: (p: OpenLoopResult) => number) => parts.reduce((s, p) => s + f(p), 0);
  const max = (f: (p: OpenLoopResult) => number) => Math.max(...parts.map(f));
  return {
    groups,
    scheduleLag: encodeHistogram(mergeHistograms(parts.map((p) => p.scheduleLag))),
    targetRps: sum((p) => p.targetRps),
    achievedRps: sum((p) => p.achievedRps),
    scheduled: sum((p) => p.scheduled),
    measuredSeconds: max((p) => p.measuredSeconds),
    cpu: sum((p) => p.cpu),
    busy: max((p) => p.busy),
    abandoned: sum((p) => p.abandoned),
    cpuWait: max((p) => p.cpuWait ?? 0),
    maxRssBytes: max((p) => p.maxRssBytes ?? 0),
    gcShare: max((p) => p.gcShare ?? 0),
    gcMaxPauseUs: max((p) => p.gcMaxPauseUs ?? 0),
    workers: sum((p) => p.workers ?? 1),
  };
}
