import { DEFAULT_MAX_LAG_P99_US } from '../scenario/schema.js';
import type { ClosedLoopResult, GroupResult, OpenLoopResult } from './types.js';

/**
 * Limits past which a trial measured the generator rather than the datapath. Lag and busy
 * thresholds are generous on purpose: they flag a generator that fell behind, not one that
 * merely jittered; the lag distribution itself is in the results for anyone who wants more.
 */
export interface SelfCheckLimits {
  minAchievedRatio: number;
  maxLagP99Us: number;
  /** Share of wall time spent in the generator's own send/receive work. */
  maxBusy: number;
  maxErrorRate: number;
  /**
   * Share of wall time the generator waited for a CPU. CFS hands out slices of ~0.75 ms and more,
   * so past a fifth of the time spent waiting, the tail is the neighbours' slices, not the datapath.
   */
  maxCpuWait: number;
  /** Closed loop: a generator using this much of a core is the ceiling it measured. */
  maxClosedCpu: number;
}

export const DEFAULT_LIMITS: SelfCheckLimits = {
  minAchievedRatio: 0.99,
  maxLagP99Us: DEFAULT_MAX_LAG_P99_US,
  maxBusy: 0.9,
  maxErrorRate: 0.01,
  maxCpuWait: 0.2,
  maxClosedCpu: 0.95,
};

export interface SelfCheckInput {
  result: OpenLoopResult;
  lagP99Us: number;
  /** Datapath decisions counted during the trial, and the minimum the VIP traffic implies. */
  decisions?: { seen: number; expected: number };
}

function errorReason(groups: readonly GroupResult[], limits: SelfCheckLimits): string | undefined {
  const ok = groups.reduce((s, g) => s + g.ok, 0);
  const errors = groups.reduce((s, g) => s + Object.values(g.errors).reduce((a, b) => a + b, 0), 0);
  const rate = ok + errors ? errors / (ok + errors) : 1;
  return rate > limits.maxErrorRate ? `${errors} errors in ${ok + errors} requests (${(rate * 100).toFixed(2)}%)` : undefined;
}

const waitReason = (cpuWait: number | undefined, limits: SelfCheckLimits) =>
  cpuWait !== undefined && cpuWait > limits.maxCpuWait
    ? `generator waited for a CPU ${(cpuWait * 100).toFixed(0)}% of the time: other processes starved it`
    : undefined;

/** Returns the reasons a trial is invalid; an empty list means it is valid. */
export function selfCheck(input: SelfCheckInput, limits: SelfCheckLimits = DEFAULT_LIMITS): string[] {
  const { result: r } = input;
  const reasons: string[] = [];
  if (r.achievedRps < r.targetRps * limits.minAchievedRatio) {
    reasons.push(`achieved ${r.achievedRps.toFixed(0)} req/s of ${r.targetRps} targeted (< ${limits.minAchievedRatio * 100}%)`);
  }
  if (input.lagP99Us > limits.maxLagP99Us) {
    const gc = r.gcMaxPauseUs ? ` (its GC paused it ${((r.gcShare ?? 0) * 100).toFixed(1)}% of the time, up to ${r.gcMaxPauseUs} µs at once)` : '';
    reasons.push(`generator schedule lag p99 ${input.lagP99Us} µs > ${limits.maxLagP99Us} µs: the generator fell behind${gc}`);
  }
  if (r.busy > limits.maxBusy) reasons.push(`generator busy ${(r.busy * 100).toFixed(0)}% of the time: it was the bottleneck`);
  const wait = waitReason(r.cpuWait, limits);
  if (wait) reasons.push(wait);
  const errors = errorReason(r.groups, limits);
  if (errors) reasons.push(errors);
  const bypass = input.decisions && decisionsReason(input.decisions);
  if (bypass) reasons.push(bypass);
  return reasons;
}

/** Datapath decisions the VIP traffic implies: one per new connection; a keep-alive pool's, at least one. */
export const expectedDecisions = (connection: 'keepalive' | 'new', vipOk: number): number =>
  connection === 'new' ? vipOk : Math.min(1, vipOk);

/** Why fewer decisions than expected make a trial invalid; undefined when the counters add up. */
export const decisionsReason = (d: { seen: number; expected: number }): string | undefined =>
  d.seen < d.expected
    ? `datapath counters show ${d.seen} load-balancing decisions for ${d.expected} VIP connections: traffic bypassed the datapath`
    : undefined;

/** The closed-loop counterpart: no schedule to keep, but a saturated generator measured itself. */
export function selfCheckClosed(r: ClosedLoopResult, limits: SelfCheckLimits = DEFAULT_LIMITS): string[] {
  const reasons: string[] = [];
  if (r.cpu > limits.maxClosedCpu) {
    reasons.push(`generator used ${r.cpu.toFixed(2)} cores (> ${limits.maxClosedCpu}): the throughput is the generator's ceiling, not the server's`);
  }
  const wait = waitReason(r.cpuWait, limits);
  if (wait) reasons.push(wait);
  const errors = errorReason(r.groups, limits);
  if (errors) reasons.push(errors);
  return reasons;
}
