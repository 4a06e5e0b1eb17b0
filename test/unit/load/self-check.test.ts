import { describe, expect, it } from 'vitest';
import { selfCheck, selfCheckClosed } from '../../../src/load/self-check.js';
import type { ClosedLoopResult, OpenLoopResult } from '../../../src/load/types.js';

const result = (over: Partial<OpenLoopResult> = {}, ok = 1000, errors: Record<string, number> = {}): OpenLoopResult => ({
  groups: [{ name: 'vip', latency: '', serviceTime: '', ok, errors }],
  scheduleLag: '',
  targetRps: 1000,
  achievedRps: 1000,
  scheduled: 1000,
  measuredSeconds: 1,
  cpu: 0.5,
  busy: 0.2,
  abandoned: 0,
  ...over,
});

describe('selfCheck', () => {
  it('accepts a trial that kept its schedule', () => {
    expect(selfCheck({ result: result(), lagP99Us: 50, decisions: { seen: 1000, expected: 1000 } })).toEqual([]);
  });
  it('flags each way the generator, not the datapath, was measured', () => {
    const reasons = selfCheck({
      result: result({ achievedRps: 950, busy: 0.97 }, 950, { timeout: 50 }),
      lagP99Us: 5000,
      decisions: { seen: 10, expected: 950 },
    });
    expect(reasons).toHaveLength(5);
    expect(reasons[0]).toMatch(/achieved 950 req\/s of 1000/);
    expect(reasons[1]).toMatch(/schedule lag p99 5000/);
    expect(reasons[2]).toMatch(/busy 97%/);
    expect(reasons[3]).toMatch(/50 errors in 1000 requests/);
    expect(reasons[4]).toMatch(/10 load-balancing decisions for 950 VIP connections/);
  });
  it('says how much of a lagging generator\'s time went to its own GC', () => {
    const [lag] = selfCheck({ result: result({ gcShare: 0.012, gcMaxPauseUs: 3400 }), lagP99Us: 2000 });
    expect(lag).toBe('generator schedule lag p99 2000 µs > 1000 µs: the generator fell behind (its GC paused it 1.2% of the time, up to 3400 µs at once)');
  });
  it('allows up to 1% shortfall and errors', () => {
    expect(selfCheck({ result: result({ achievedRps: 991 }, 995, { reset: 5 }), lagP99Us: 10 })).toEqual([]);
  });
  it('flags a generator starved of CPU by its neighbours', () => {
    expect(selfCheck({ result: result({ cpuWait: 0.35 }), lagP99Us: 50 })).toEqual([
      'generator waited for a CPU 35% of the time: other processes starved it',
    ]);
    expect(selfCheck({ result: result({ cpuWait: 0.05 }), lagP99Us: 50 })).toEqual([]);
  });
});

describe('selfCheckClosed', () => {
  const closed = (over: Partial<ClosedLoopResult> = {}): ClosedLoopResult => ({
    groups: [{ name: 'vip', latency: '', serviceTime: '', ok: 1000, errors: {} }],
    achievedRps: 1000, measuredSeconds: 1, cpu: 0.5, cpuWait: 0.01, maxRssBytes: 1, ...over,
  });
  it('accepts a run whose generator had headroom', () => {
    expect(selfCheckClosed(closed())).toEqual([]);
  });
  it('flags a saturated generator: it measured its own ceiling', () => {
    expect(selfCheckClosed(closed({ cpu: 0.99 }))[0]).toMatch(/0\.99 cores .*generator's ceiling/);
  });
});
