import { decodeHistogram } from '../results/histogram.js';
import { DEFAULT_LIMITS, selfCheck, type SelfCheckLimits } from './self-check.js';
import type { OpenLoopResult } from './types.js';

export interface MaxRateOptions {
  /** The first rate tried; it must pass for the answer to be above zero. */
  minRate: number;
  /** The search never goes above this rate. */
  maxRate: number;
  /** p99 of the headline group's latency must stay at or under this (µs). */
  sloP99Us: number;
  /** Stop bisecting when the gap between passing and failing rates is this fraction of the pass. */
  resolution: number;
  /** Hard bound on the number of trials, whatever the resolution. */
  maxSteps: number;
  /** Group whose p99 is held to the SLO (default: the first). */
  group?: string;
  limits?: SelfCheckLimits;
  /** Stops the search after the current step (Ctrl-C); the steps so far are returned. */
  signal?: AbortSignal;
}

export interface RateStep {
  rate: number;
  achievedRps: number;
  p99Us: number;
  pass: boolean;
  /** Why it failed: SLO, rate shortfall, errors, or the generator itself. */
  reasons: string[];
}

export interface MaxRateResult {
  /** Highest rate that passed; 0 when even minRate failed. */
  maxRate: number;
  steps: RateStep[];
  /**
   * Set when the search stopped because the generator, not the server, failed (schedule lag,
   * busy, starved): the true answer is at least maxRate and this says why it is not known.
   */
  generatorLimited?: string;
}

const GENERATOR = /generator/;

/**
 * Highest rate at which p99 stays within the SLO and the rate is actually achieved: doubling from
 * minRate until a failure, then bisection. Every step is a full trial, so the step count is bounded.
 */
export async function findMaxRate(measure: (rate: number) => Promise<OpenLoopResult>, o: MaxRateOptions): Promise<MaxRateResult> {
  const steps: RateStep[] = [];
  // The generator may take at most half the SLO: past that, a failing step is its lag, not the server's.
  const base = o.limits ?? DEFAULT_LIMITS;
  const limits = { ...base, maxLagP99Us: Math.min(base.maxLagP99Us, o.sloP99Us / 2) };
  const tryRate = async (rate: number): Promise<RateStep> => {
    const r = await measure(rate);
    const g = r.groups.find((x) => x.name === o.group) ?? r.groups[0]!;
    const p99Us = g.ok ? decodeHistogram(g.latency).getValueAtPercentile(99) : Number.POSITIVE_INFINITY;
    const reasons = selfCheck({ result: r, lagP99Us: decodeHistogram(r.scheduleLag).getValueAtPercentile(99) }, limits);
    if (p99Us > o.sloP99Us) reasons.unshift(`p99 ${p99Us} µs > SLO ${o.sloP99Us} µs`);
    const step = { rate, achievedRps: r.achievedRps, p99Us, pass: reasons.length === 0, reasons };
    steps.push(step);
    return step;
  };
  const generatorFault = (s: RateStep) => s.reasons.find((x) => GENERATOR.test(x));

  let pass = 0;
  let fail = Number.POSITIVE_INFINITY;
  let rate = Math.min(o.minRate, o.maxRate);
  while (steps.length < o.maxSteps && !o.signal?.aborted) {
    const s = await tryRate(rate);
    if (!s.pass && generatorFault(s)) return { maxRate: pass, steps, generatorLimited: generatorFault(s) };
    if (s.pass) pass = rate;
    else fail = rate;
    if (pass === 0 && s.pass === false) break;
    if (fail === Number.POSITIVE_INFINITY) {
      if (rate >= o.maxRate) break;
      rate = Math.min(o.maxRate, rate * 2);
    } else {
      if ((fail - pass) / Math.max(1, pass) <= o.resolution) break;
      rate = Math.round((pass + fail) / 2);
    }
  }
  return { maxRate: pass, steps };
}
