import { describe, expect, it } from 'vitest';
import { formatMicros, parseMicros, parseSeconds } from '../../../src/scenario/units.js';

describe('units', () => {
  it('parses durations to seconds', () => {
    expect(parseSeconds('250ms')).toBe(0.25);
    expect(parseSeconds('2m')).toBe(120);
    expect(parseSeconds('800us')).toBeCloseTo(0.0008);
    expect(parseSeconds(3)).toBe(3);
    expect(parseSeconds('3 hours')).toBeUndefined();
  });
  it('parses latencies to microseconds', () => {
    expect(parseMicros('2ms')).toBe(2000);
    expect(parseMicros('1.5s')).toBe(1_500_000);
    expect(parseMicros(42)).toBe(42);
  });
  it('formats microseconds for tables', () => {
    expect(formatMicros(87)).toBe('87µs');
    expect(formatMicros(1234)).toBe('1.23ms');
    expect(formatMicros(25_000)).toBe('25.0ms');
    expect(formatMicros(2_500_000)).toBe('2.50s');
  });
});
