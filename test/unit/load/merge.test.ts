import { describe, expect, it } from 'vitest';
import { mergeOpenLoopResults } from '../../../src/load/merge.js';
import { workerShare } from '../../../src/load/spawn.js';
import type { OpenLoopConfig, OpenLoopResult } from '../../../src/load/types.js';
import { decodeHistogram, encodeHistogram, newHistogram } from '../../../src/results/histogram.js';

const hist = (values: number[]) => {
  const h = newHistogram();
  for (const v of values) h.recordValue(v);
  return encodeHistogram(h);
};

const part = (values: number[], over: Partial<OpenLoopResult> = {}): OpenLoopResult => ({
  groups: [{ name: 'vip', latency: hist(values), serviceTime: hist(values), ok: values.length, errors: { timeout: 1 } }],
  scheduleLag: hist([5]),
  targetRps: 100,
  achievedRps: 99,
  scheduled: values.length + 1,
  measuredSeconds: 1,
  cpu: 0.2,
  busy: 0.1,
  abandoned: 0,
  cpuWait: 0.01,
  maxRssBytes: 50e6,
  workers: 1,
  ...over,
});

describe('mergeOpenLoopResults', () => {
  it('takes percentiles from the merged histogram, never the average of percentiles', () => {
    // Worker A: 99 fast (100 µs) + 1 slow; worker B: all slow (10 ms). Averaging p50s would say ~5 ms.
    const a = part([...Array(99).fill(100), 10_000]);
    const b = part(Array(100).fill(10_000), { busy: 0.7, cpuWait: 0.3, maxRssBytes: 60e6 });
    const m = mergeOpenLoopResults([a, b]);
    const h = decodeHistogram(m.groups[0]!.latency);
    expect(h.totalCount).toBe(200);
    expect(h.getValueAtPercentile(40)).toBeLessThan(101);
    expect(h.getValueAtPercentile(60)).toBeGreaterThan(9_990);
    expect(m.groups[0]!.ok).toBe(200);
    expect(m.groups[0]!.errors).toEqual({ timeout: 2 });
    expect(m.targetRps).toBe(200);
    expect(m.achievedRps).toBe(198);
    expect(m.busy).toBe(0.7);
    expect(m.cpuWait).toBe(0.3);
    expect(m.cpu).toBeCloseTo(0.4);
    expect(m.maxRssBytes).toBe(60e6);
    expect(m.workers).toBe(2);
  });
});

describe('workerShare', () => {
  it('gives each worker its share of the rate, its connections and its own seed', () => {
    const cfg: OpenLoopConfig = {
      groups: [{ name: 'vip', addresses: [{ host: '127.0.0.1', port: 1 }] }, { name: 'direct', addresses: [{ host: '127.0.0.1', port: 2 }] }],
      rate: 9000, arrival: 'poisson', durationS: 1, warmupS: 0, connection: 'keepalive', connections: 5, timeoutS: 1, seed: 3, workers: 3,
    };
    const shares = [0, 1, 2].map((k) => workerShare(cfg, k, 3));
    expect(shares.map((s) => s.rate)).toEqual([3000, 3000, 3000]);
    expect(shares.every((s) => s.connections === 2 && s.workers === 1)).toBe(true);
    expect(new Set(shares.map((s) => s.seed)).size).toBe(3);
  });
});
