import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../../../src/load/self-check.js';
import type { OpenLoopConfig, OpenLoopResult } from '../../../../src/load/types.js';
import { encodeHistogram, newHistogram } from '../../../../src/results/histogram.js';
import { isDistribution, type Metric } from '../../../../src/results/model.js';
import { runMaxRateTrial, type StepRun } from '../../../../src/targets/lab/max-rate-trial.js';

/**
 * A "server" whose p99 is arithmetic: 200 µs up to `knee` req/s, 5 ms above. The trial logic is
 * the unit under test; the real lab path is covered by test/integration/targets/lab.
 */
function server(knee: number, opts: { lagAbove?: number; bypass?: boolean } = {}) {
  const rates: number[] = [];
  const runStep = async (cfg: OpenLoopConfig): Promise<StepRun> => {
    rates.push(cfg.rate);
    const h = newHistogram();
    h.recordValueWithCount(cfg.rate <= knee ? 200 : 5000, 100);
    const lag = newHistogram();
    lag.recordValue(opts.lagAbove !== undefined && cfg.rate > opts.lagAbove ? 5000 : 20);
    const result: OpenLoopResult = {
      groups: [{ name: 'vip', latency: encodeHistogram(h), serviceTime: encodeHistogram(h), ok: 100, errors: {} }],
      scheduleLag: encodeHistogram(lag), targetRps: cfg.rate, achievedRps: cfg.rate, scheduled: 100, measuredSeconds: 1,
      cpu: 0.2, busy: 0.1, abandoned: 0,
    };
    return { result, decisions: opts.bypass ? 0 : 100 };
  };
  return { rates, runStep };
}

const base: Omit<OpenLoopConfig, 'rate'> = {
  groups: [{ name: 'vip', addresses: [{ host: '198.19.1.0', port: 80 }] }],
  arrival: 'constant', durationS: 1, warmupS: 0, connection: 'new', connections: 1, timeoutS: 1,
};
const search = { sloP99: 1000, minRate: 100, maxRate: 1600, resolution: 0.1, maxSteps: 8 };
const value = (m: Metric | undefined) => (m && !isDistribution(m) ? m.value : undefined);

describe('runMaxRateTrial', () => {
  it('records the answer, its bracket and the latency of the highest passing step', async () => {
    const s = server(500);
    const steps: string[] = [];
    const m = await runMaxRateTrial({ search, base, runStep: s.runStep, onStep: (r, k) => steps.push(`${k}@${r}`) });
    expect(m.status).toBe('ok');
    expect(value(m.metrics['http.maxRateAtSlo'])).toBe(value(m.metrics['http.targetRps']));
    const rate = value(m.metrics['http.maxRateAtSlo'])!;
    expect(rate).toBeGreaterThanOrEqual(450);
    expect(rate).toBeLessThanOrEqual(500);
    expect(value(m.metrics['http.maxRateFailedAt'])! / rate).toBeLessThanOrEqual(1.1);
    expect((m.metrics['http.latency'] as { p99: number }).p99).toBeLessThan(1000);
    expect(value(m.metrics['http.maxRateSteps'])).toBe(s.rates.length);
    expect(steps[0]).toBe('1@100');
    expect(value(m.metrics['datapath.decisions'])).toBe(100 * s.rates.length);
    expect(m.reason).toMatch(/^\d+ req\/s failed: p99 5\d{3} µs > SLO 1000 µs$/);
  });

  it('holds the generator to half the SLO, whatever the scenario\'s own lag bound', async () => {
    // 600 µs of lag passes a 5 ms scenario bound but is more than half this 1 ms SLO.
    const runStep = async (cfg: OpenLoopConfig): Promise<StepRun> => {
      const r = await server(100_000).runStep(cfg);
      const lag = newHistogram();
      lag.recordValue(600);
      return { ...r, result: { ...r.result, scheduleLag: encodeHistogram(lag) } };
    };
    const limits = { ...DEFAULT_LIMITS, maxLagP99Us: 5000 };
    const m = await runMaxRateTrial({ search, base, runStep, limits });
    expect(m.status).toBe('invalid');
    expect(m.reason).toMatch(/stopped the search at 100 req\/s: .*schedule lag p99 \d+ µs > 500 µs/);
  });

  it('gives 0 and the reason when even minRate misses the SLO, with no latency metrics', async () => {
    const m = await runMaxRateTrial({ search, base, runStep: server(50).runStep });
    expect(m.status).toBe('ok');
    expect(value(m.metrics['http.maxRateAtSlo'])).toBe(0);
    expect(m.metrics['http.latency']).toBeUndefined();
    expect(m.reason).toMatch(/^even search\.minRate 100 req\/s failed: p99/);
  });

  it('says the true max is higher when every step up to maxRate passed', async () => {
    const m = await runMaxRateTrial({ search, base, runStep: server(1e6).runStep });
    expect(value(m.metrics['http.maxRateAtSlo'])).toBe(1600);
    expect(m.metrics['http.maxRateFailedAt']).toBeUndefined();
    expect(m.reason).toMatch(/search\.maxRate 1,600 req\/s reached .* the true max is higher/);
  });

  it('is invalid when the generator stopped the search, or traffic bypassed the datapath', async () => {
    const lagged = await runMaxRateTrial({ search, base, runStep: server(1e6, { lagAbove: 300 }).runStep });
    expect(lagged.status).toBe('invalid');
    expect(value(lagged.metrics['http.maxRateAtSlo'])).toBe(200);
    expect(lagged.reason).toMatch(/the load generator, not the datapath, stopped the search at 400 req\/s: .*schedule lag/);
    const bypass = await runMaxRateTrial({ search, base, runStep: server(500, { bypass: true }).runStep });
    expect(bypass.status).toBe('invalid');
    expect(bypass.reason).toMatch(/traffic bypassed the datapath/);
  });

  it('stops after the current step when interrupted', async () => {
    const ac = new AbortController();
    const s = server(1e6);
    const m = await runMaxRateTrial({ search, base, runStep: async (cfg) => (ac.abort(), s.runStep(cfg)), signal: ac.signal });
    expect(m).toMatchObject({ status: 'failed', reason: 'interrupted' });
    expect(s.rates).toEqual([100]);
  });
});
