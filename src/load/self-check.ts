import type { OpenLoopResult } from './types.js';

/**
 * Limits past which a trial measured the generator rather than the datapath. Lag and busy
 * thresholds are generous on purpose: they flag a generator that fell behind, not one that
 * merely jittered; the lag distribution itself is in the results for anyone who wants more.
 */
export interface SelfCheckLimits {
  minAchievedRatio: number;
  maxLagP99Us: number;
  maxBusy: number;
  maxErrorRate: number;
}

export const DEFAULT_LIMITS: SelfCheckLimits = { minAchievedRatio: 0.99, maxLagP99Us: 1000, maxBusy: 0.9, maxErrorRate: 0.01 };

export interface SelfCheckInput {
  result: OpenLoopResult;
  lagP99Us: number;
  /** Datapath decisions counted during the trial, and the minimum the VIP traffic implies. */
  decisions?: { seen: number; expected: number };
}

/** Returns the reasons a trial is invalid; an empty list means it is valid. */
export function selfCheck(input: SelfCheckInput, limits: SelfCheckLimits = DEFAULT_LIMITS): string[] {
  const { result: r } = input;
  const reasons: string[] = [];
  const ok = r.groups.reduce((s, g) => s + g.ok, 0);
  const errors = r.groups.reduce((s, g) => s + Object.values(g.errors).reduce((a, b) => a + b, 0), 0);
  if (r.achievedRps < r.targetRps * limits.minAchievedRatio) {
    reasons.push(`achieved ${r.achievedRps.toFixed(0)} req/s of ${r.targetRps} targeted (< ${limits.minAchievedRatio * 100}%)`);
  }
  if (input.lagP99Us > limits.maxLagP99Us) {
    reasons.push(`generator schedule lag p99 ${input.lagP99Us} µs > ${limits.maxLagP99Us} µs: the generator fell behind`);
  }
  if (r.busy > limits.maxBusy) reasons.push(`generator busy ${(r.busy * 100).toFixed(0)}% of the time: it was the bottleneck`);
  const rate = ok + errors ? errors / (ok + errors) : 1;
  if (rate > limits.maxErrorRate) reasons.push(`${errors} errors in ${ok + errors} requests (${(rate * 100).toFixed(2)}%)`);
  if (input.decisions && input.decisions.seen < input.decisions.expected) {
    reasons.push(
      `datapath counters show ${input.decisions.seen} load-balancing decisions for ${input.decisions.expected} VIP connections: traffic bypassed the datapath`,
    );
  }
  return reasons;
}
