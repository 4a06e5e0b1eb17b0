import { describe, expect, it } from 'vitest';
import { ConnectProbeSchema, connectMetrics, connectPlan, pairedDifference } from '../../../src/probes/connect.js';
import { isDistribution } from '../../../src/results/model.js';
import { backgroundServices } from '../../../src/targets/lab/addressing.js';

const services = backgroundServices(100, 2, 2);
const pods = ['198.18.2.10', '198.18.2.11'];

describe('ConnectProbeSchema', () => {
  it('fills defaults and reads durations with units', () => {
    expect(ConnectProbeSchema.parse({})).toEqual({ samples: 1000, gap: 0.001, timeout: 1, warmup: 30 });
    expect(ConnectProbeSchema.parse({ gap: '500us', timeout: '2s' })).toMatchObject({ gap: 0.0005, timeout: 2 });
    expect(ConnectProbeSchema.safeParse({ gap: '2s' }).success).toBe(false);
    expect(ConnectProbeSchema.safeParse({ sampels: 10 }).success).toBe(false);
  });
});

describe('connectPlan', () => {
  const o = ConnectProbeSchema.parse({ samples: 200, warmup: 10 });
  const plan = connectPlan(services, pods, 8080, o, 3);

  it('interleaves one of each kind per round, in a varying order', () => {
    expect(plan.ops).toHaveLength(3 * 210);
    for (let r = 0; r < 210; r++) {
      expect(plan.ops.slice(3 * r, 3 * r + 3).map((op) => op.kind).sort()).toEqual(['direct', 'vip', 'worst']);
    }
    const firsts = new Set(Array.from({ length: 210 }, (_, r) => plan.ops[3 * r]!.kind));
    expect(firsts.size).toBe(3);
  });

  it('aims the worst case at the last-installed service and spreads the rest', () => {
    expect(new Set(plan.ops.filter((op) => op.kind === 'worst').map((op) => op.host))).toEqual(new Set([services[99]!.vip]));
    expect(new Set(plan.ops.filter((op) => op.kind === 'vip').map((op) => op.host)).size).toBeGreaterThan(50);
    expect(plan.ops.filter((op) => op.kind === 'direct').every((op) => pods.includes(op.host) && op.port === 8080)).toBe(true);
  });

  it('is repeatable per seed', () => {
    expect(connectPlan(services, pods, 8080, o, 3)).toEqual(plan);
    expect(connectPlan(services, pods, 8080, o, 4)).not.toEqual(plan);
  });
});

describe('pairedDifference', () => {
  it('finds a constant offset exactly', () => {
    const b = Array.from({ length: 100 }, (_, i) => 200 + (i % 7));
    expect(pairedDifference(b.map((x) => x + 10), b)).toEqual({ median: 10, ciLow: 10, ciHigh: 10, pairs: 100 });
  });

  it('gives an interval that contains the true offset under noise, and skips failed pairs', () => {
    let s = 1;
    const noise = () => ((s = (s * 16807) % 2147483647) / 2147483647 - 0.5) * 40;
    const b = Array.from({ length: 500 }, () => 250 + noise());
    const a = b.map((x) => x + 25 + noise());
    a[3] = -1;
    const d = pairedDifference(a, b)!;
    expect(d.pairs).toBe(499);
    expect(d.ciLow).toBeLessThan(25);
    expect(d.ciHigh).toBeGreaterThan(25);
    expect(d.ciHigh - d.ciLow).toBeLessThan(10);
  });

  it('needs at least two pairs', () => {
    expect(pairedDifference([1], [2])).toBeUndefined();
  });
});

describe('connectMetrics', () => {
  it('keeps only measured rounds and counts failures', () => {
    const o = ConnectProbeSchema.parse({ samples: 20, warmup: 2 });
    const plan = connectPlan(services, pods, 8080, o);
    const us: number[] = plan.ops.map((op) => (op.kind === 'direct' ? 100 : op.kind === 'vip' ? 130 : 160));
    us[us.length - 1] = -1;
    const r = connectMetrics(plan, { us, errors: { ETIMEDOUT: 1 } });
    expect(r.attempts).toBe(60);
    expect(r.errors).toBe(1);
    const vip = r.metrics['connect.vip']!;
    const worst = r.metrics['connect.vip.worst']!;
    expect(isDistribution(vip) && vip.p50).toBe(130);
    expect(isDistribution(worst) && worst.p50).toBe(160);
    expect(r.metrics['connect.natCost']).toEqual({ unit: 'us', value: 30 });
    expect(r.metrics['connect.natCost.worst']).toEqual({ unit: 'us', value: 60 });
    expect(r.vipConnections).toBe(2 * 22 - (plan.ops.at(-1)!.kind === 'direct' ? 0 : 1));
  });
});
