import { describe, expect, it } from 'vitest';
import { findMaxRate } from '../../../src/load/max-rate.js';
import type { OpenLoopResult } from '../../../src/load/types.js';
import { encodeHistogram, newHistogram } from '../../../src/results/histogram.js';

/**
 * A server model with a known answer: an M/D/1 queue with 100 µs service, whose p99 crosses
 * 1 ms at a known load. The search is the unit under test; the "server" is arithmetic.
 */
function md1(rate: number, opts: { generatorLagAbove?: number } = {}): OpenLoopResult {
  const service = 100;
  const rho = Math.min(0.999, (rate * service) / 1e6);
  // Waiting time of M/D/1 grows like rho / (1 - rho); scaled so p99 = 1 ms near 8,000 req/s.
  const p99 = Math.round(service + 225 * (rho / (1 - rho)));
  const h = newHistogram();
  for (let i = 0; i < 980; i++) h.recordValue(service);
  for (let i = 0; i < 20; i++) h.recordValue(p99);
  const lag = newHistogram();
  lag.recordValue(opts.generatorLagAbove !== undefined && rate > opts.generatorLagAbove ? 5000 : 20);
  return {
    groups: [{ name: 'vip', latency: encodeHistogram(h), serviceTime: encodeHistogram(h), ok: 1000, errors: {} }],
    scheduleLag: encodeHistogram(lag), targetRps: rate, achievedRps: rate, scheduled: 1000, measuredSeconds: 1,
    cpu: 0.3, busy: 0.2, abandoned: 0,
  };
}
const p99At = (rate: number) => {
  const rho = Math.min(0.999, (rate * 100) / 1e6);
  return 100 + 225 * (rho / (1 - rho));
};

describe('findMaxRate', () => {
  it('finds the highest rate meeting the SLO within its resolution, in bounded steps', async () => {
    const tried: number[] = [];
    const r = await findMaxRate(async (rate) => (tried.push(rate), md1(rate)), {
      minRate: 1000, maxRate: 100_000, sloP99Us: 1000, resolution: 0.02, maxSteps: 20,
    });
    expect(p99At(r.maxRate)).toBeLessThanOrEqual(1001);
    expect(r.maxRate).toBeGreaterThan(7000);
    expect(p99At(r.maxRate * 1.02)).toBeGreaterThan(1000);
    expect(tried.length).toBeLessThanOrEqual(20);
    expect(r.steps.filter((s) => s.pass).every((s) => s.rate <= r.maxRate)).toBe(true);
    expect(r.generatorLimited).toBeUndefined();
  });

  it('stops at maxSteps whatever the resolution', async () => {
    const r = await findMaxRate(async (rate) => md1(rate), { minRate: 100, maxRate: 100_000, sloP99Us: 1000, resolution: 0, maxSteps: 5 });
    expect(r.steps).toHaveLength(5);
  });

  it('returns 0 when even the first rate fails, and never exceeds maxRate', async () => {
    expect((await findMaxRate(async (rate) => md1(rate), { minRate: 9500, maxRate: 20_000, sloP99Us: 1000, resolution: 0.05, maxSteps: 10 })).maxRate).toBe(0);
    expect((await findMaxRate(async (rate) => md1(rate), { minRate: 100, maxRate: 3000, sloP99Us: 1000, resolution: 0.05, maxSteps: 10 })).maxRate).toBe(3000);
  });

  it('says so when the generator, not the server, failed first', async () => {
    const r = await findMaxRate(async (rate) => md1(rate, { generatorLagAbove: 3000 }), {
      minRate: 1000, maxRate: 100_000, sloP99Us: 1000, resolution: 0.05, maxSteps: 10,
    });
    expect(r.maxRate).toBe(2000);
    expect(r.generatorLimited).toMatch(/schedule lag/);
  });
});
