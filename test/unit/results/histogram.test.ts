import { describe, expect, it } from 'vitest';
import { decodeHistogram, encodeHistogram, mergeHistograms, newHistogram, toDistribution } from '../../../src/results/histogram.js';

describe('histograms', () => {
  it('keeps microsecond resolution through encode/decode', () => {
    const h = newHistogram();
    for (let v = 1; v <= 1000; v++) h.recordValue(v);
    const d = toDistribution(decodeHistogram(encodeHistogram(h)));
    expect(d.count).toBe(1000);
    expect(d.p50).toBe(500);
    expect(d.p99).toBe(990);
    expect(d.max).toBe(1000);
  });

  it('merges histograms instead of averaging percentiles', () => {
    const fast = newHistogram();
    const slow = newHistogram();
    for (let i = 0; i < 900; i++) fast.recordValue(100);
    for (let i = 0; i < 100; i++) slow.recordValue(10_000);
    const m = toDistribution(mergeHistograms([encodeHistogram(fast), encodeHistogram(slow)]));
    expect(m.count).toBe(1000);
    expect(m.p50).toBe(100);
    // The average of the two p99s would be ~5 ms; the merged p99 is the slow tail.
    expect(m.p99).toBeGreaterThanOrEqual(9990);
    expect(m.p99).toBeLessThanOrEqual(10_010);
  });

  it('reports zeros for an empty histogram', () => {
    expect(toDistribution(newHistogram())).toMatchObject({ count: 0, p50: 0, p99: 0, max: 0 });
  });
});
