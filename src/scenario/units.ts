/**
 * Durations and latency thresholds are written the way people say them ("5s", "250ms", "800us").
 * Internally durations are seconds and latencies microseconds, the unit of every histogram.
 */
const DURATION = /^(\d+(?:\.\d+)?)(us|µs|ms|s|m)$/;
const toSecondsFactor: Record<string, number> = { us: 1e-6, µs: 1e-6, ms: 1e-3, s: 1, m: 60 };

export const durationPattern = DURATION.source;

/** "1.5s" → 1.5; a bare number is already seconds. Returns undefined for malformed text. */
export function parseSeconds(v: string | number): number | undefined {
  if (typeof v === 'number') return v;
  const m = DURATION.exec(v.trim());
  if (!m) return undefined;
  return Number(m[1]) * toSecondsFactor[m[2]!]!;
}

/** "2ms" → 2000; a bare number is already microseconds. */
export function parseMicros(v: string | number): number | undefined {
  if (typeof v === 'number') return v;
  const s = parseSeconds(v);
  return s === undefined ? undefined : Math.round(s * 1e6 * 1000) / 1000;
}

/** 1234.5 µs → "1.23ms"; used by reports so a column reads at a glance. */
export function formatMicros(us: number): string {
  if (!Number.isFinite(us)) return '–';
  if (us < 1000) return `${Math.round(us)}µs`;
  if (us < 1_000_000) return `${(us / 1000).toFixed(us < 10_000 ? 2 : 1)}ms`;
  return `${(us / 1e6).toFixed(2)}s`;
}
