import * as hdr from 'hdr-histogram-js';
import type { Distribution } from './model.js';

export type Histogram = hdr.Histogram;

/**
 * µs resolution, 3 significant digits, up to 60 s. The JS (not WASM) implementation, because
 * WASM histograms must be destroyed by hand and a leak there would grow with run length.
 */
export function newHistogram(): Histogram {
  return hdr.build({
    bitBucketSize: 64,
    autoResize: true,
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
  });
}

export const encodeHistogram = (h: Histogram): string => hdr.encodeIntoCompressedBase64(h);

export function decodeHistogram(s: string): Histogram {
  const h = newHistogram();
  h.add(hdr.decodeFromCompressedBase64(s, 64, false));
  return h;
}

/** Percentiles of several runs come from the merged histogram, never from averaging percentiles. */
export function mergeHistograms(encoded: readonly string[]): Histogram {
  const out = newHistogram();
  for (const e of encoded) out.add(hdr.decodeFromCompressedBase64(e, 64, false));
  return out;
}

export function toDistribution(h: Histogram, unit = 'us'): Distribution {
  const count = h.totalCount;
  const at = (p: number) => (count ? h.getValueAtPercentile(p) : 0);
  return {
    unit,
    count,
    min: count ? h.minNonZeroValue : 0,
    mean: count ? Math.round(h.mean * 10) / 10 : 0,
    p50: at(50),
    p90: at(90),
    p95: at(95),
    p99: at(99),
    p999: at(99.9),
    max: count ? h.maxValue : 0,
    hdr: encodeHistogram(h),
  };
}
