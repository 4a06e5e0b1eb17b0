import { describe, expect, it } from 'vitest';
import { newHistogram, toDistribution } from '../../../src/results/histogram.js';
import type { Run, TrialResult } from '../../../src/results/model.js';
import { scalingFits, scalingMarkdown } from '../../../src/report/scaling.js';
import { probesProfile } from '../../../src/scenario/plan.js';

const dist = (p50: number) => {
  const h = newHistogram();
  for (let i = 0; i < 10; i++) h.recordValue(p50);
  return toDistribution(h);
};

function trial(datapath: 'iptables' | 'nftables', services: number, vipUs: number, status: TrialResult['status'] = 'ok'): TrialResult {
  return {
    id: `${datapath}-${services}-probes-r1`,
    datapath,
    services,
    endpoints: 2,
    load: probesProfile({ connect: { samples: 10, gap: 0.001, timeout: 1, warmup: 0 } }),
    repeat: 1,
    status,
    startedAt: '2026-01-01T00:00:00Z',
    endedAt: '2026-01-01T00:00:01Z',
    metrics: { 'connect.vip': dist(vipUs) },
  };
}

const run = (trials: TrialResult[]): Run => ({
  schemaVersion: 1,
  runId: 'r',
  startedAt: '2026-01-01T00:00:00Z',
  scenario: { name: 's', fit: { projectAt: 50_000 } },
  fingerprint: {},
  trials,
});

describe('scalingFits', () => {
  // iptables: 200 µs + 5 µs per 1,000 services; nftables flat at 150 µs.
  const r = run([
    ...[1000, 10_000, 20_000, 40_000].map((n) => trial('iptables', n, 200 + (5 * n) / 1000)),
    ...[1000, 10_000, 20_000, 40_000].map((n) => trial('nftables', n, 150)),
    trial('iptables', 30_000, 99_999, 'invalid'),
  ]);

  it('fits µs per 1,000 services with R² and projects it', () => {
    const [ipt, nft] = scalingFits(r, 50_000);
    expect(ipt!.metric).toBe('connect.vip');
    expect(ipt!.datapath).toBe('iptables');
    // HDR keeps 3 significant digits, so allow a little rounding.
    expect(ipt!.usPer1kServices).toBeCloseTo(5, 1);
    expect(ipt!.r2).toBeGreaterThan(0.999);
    expect(ipt!.projectedUs).toBeCloseTo(450, -1);
    expect(nft!.usPer1kServices).toBeCloseTo(0, 5);
  });

  it('leaves out invalid trials and metrics measured at only one service count', () => {
    expect(scalingFits(r).find((f) => f.datapath === 'iptables')!.points).toHaveLength(4);
    expect(scalingFits(run([trial('iptables', 1000, 200)]))).toEqual([]);
  });

  it('renders a Markdown table, projecting to the scenario fit.projectAt by default', () => {
    const md = scalingMarkdown(r);
    expect(md).toContain('| metric | datapath | points (counts) | µs per 1,000 services | intercept | R² | p50 at 50,000 services |');
    expect(md).toMatch(/\| connect\.vip \| iptables \| 4 \(4\) \| 5\.0\d \| 2\d\dµs \| 1\.000 \| 4\d\dµs \(beyond 40,000\) \|/);
    expect(scalingMarkdown(run([]))).toBe('');
  });
});
