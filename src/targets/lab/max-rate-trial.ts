import { findMaxRate, type RateStep } from '../../load/max-rate.js';
import { maxRateMetrics, openLoopMetrics } from '../../load/metrics.js';
import { decisionsReason, expectedDecisions, type SelfCheckLimits } from '../../load/self-check.js';
import type { OpenLoopConfig, OpenLoopResult } from '../../load/types.js';
import type { Metric } from '../../results/model.js';
import type { RateSearch } from '../../scenario/schema.js';
import { formatMicros } from '../../scenario/units.js';
import type { Measurement } from '../target.js';

/** One step of the search as the target runs it: the engine's result and the datapath decisions counted meanwhile. */
export interface StepRun {
  result: OpenLoopResult;
  decisions: number;
}

export interface MaxRateTrialInput {
  search: RateSearch;
  /** Every step's open-loop config but its rate; the group named "vip" is held to the SLO. */
  base: Omit<OpenLoopConfig, 'rate'>;
  runStep: (cfg: OpenLoopConfig) => Promise<StepRun>;
  /** Called before each step, for the progress line. */
  onStep?: (rate: number, step: number) => void;
  signal?: AbortSignal;
  /** The scenario's self-check limits (schedule lag). */
  limits?: SelfCheckLimits;
}

const rps = (n: number) => `${Math.round(n).toLocaleString('en-US')} req/s`;

/** Why the answer is what it is, in one line: the lowest failing step, or the search's ceiling. */
function stoppedBy(steps: readonly RateStep[], s: RateSearch, maxRate: number): string {
  const failed = steps.filter((x) => !x.pass).sort((a, b) => a.rate - b.rate)[0];
  if (!failed) {
    return maxRate >= s.maxRate
      ? `search.maxRate ${rps(s.maxRate)} reached with p99 ≤ ${formatMicros(s.sloP99)}; the true max is higher`
      : `stopped after ${steps.length} steps (search.maxSteps) without a failing rate`;
  }
  const head = maxRate === 0 ? `even search.minRate ${rps(failed.rate)} failed` : `${rps(failed.rate)} failed`;
  return `${head}: ${failed.reasons.join('; ')}`;
}

/**
 * A search trial: findMaxRate over open-loop steps at different rates. The metrics are the answer
 * (http.maxRateAtSlo and its bracket) plus the full open-loop metrics of the last passing step,
 * which is the highest passing rate, so the latency at the max rate is in run.json.
 *
 * A search cut short by the generator (schedule lag, busy, starved) is invalid: the datapath's
 * limit is then unknown, only that it is above the last pass. Every other stop is a valid answer,
 * 0 included, and the reason says what stopped it.
 */
export async function runMaxRateTrial(i: MaxRateTrialInput): Promise<Measurement> {
  const results: OpenLoopResult[] = [];
  let seen = 0;
  let expected = 0;
  const res = await findMaxRate(
    async (rate) => {
      i.onStep?.(rate, results.length + 1);
      const { result, decisions } = await i.runStep({ ...i.base, rate });
      results.push(result);
      seen += decisions;
      expected += expectedDecisions(i.base.connection, result.groups.find((g) => g.name === 'vip')?.ok ?? 0);
      return result;
    },
    {
      minRate: i.search.minRate,
      maxRate: i.search.maxRate,
      sloP99Us: i.search.sloP99,
      resolution: i.search.resolution,
      maxSteps: i.search.maxSteps,
      group: 'vip',
      signal: i.signal,
      limits: i.limits,
    },
  );
  // results[k] is the run behind res.steps[k]: findMaxRate records a step per call, in order.
  const lastPass = res.steps.map((s) => s.pass).lastIndexOf(true);
  const metrics: Record<string, Metric> = lastPass >= 0 ? openLoopMetrics(results[lastPass]!) : {};
  Object.assign(metrics, maxRateMetrics(res));
  metrics['datapath.decisions'] = { unit: 'count', value: seen };
  if (i.signal?.aborted) return { status: 'failed', reason: 'interrupted', metrics };
  const problems: string[] = [];
  if (res.generatorLimited) {
    const at = res.steps[res.steps.length - 1]!;
    problems.push(`the load generator, not the datapath, stopped the search at ${rps(at.rate)}: ${at.reasons.join('; ')}`);
  }
  const bypass = decisionsReason({ seen, expected });
  if (bypass) problems.push(bypass);
  if (problems.length) return { status: 'invalid', reason: problems.join('; '), metrics };
  return { status: 'ok', reason: stoppedBy(res.steps, i.search, res.maxRate), metrics };
}
