import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { trialsCsv } from '../../../src/report/csv.js';
import { run, trial } from '../../fixtures/run-fixture.js';

describe('trialsCsv', () => {
  it('writes one row per trial and metric', () => {
    const rows = parse(trialsCsv(run([trial({ datapath: 'nftables', services: 10 }, [120], [60])])), { columns: true }) as Record<string, string>[];
    expect(rows).toHaveLength(3);
    expect(rows.find((r) => r.metric === 'http.latency')).toMatchObject({ datapath: 'nftables', services: '10', p50: '120', count: '10', value: '' });
    expect(rows.find((r) => r.metric === 'http.achievedRps')).toMatchObject({ value: '100', unit: 'req/s', p50: '' });
  });
});

describe('trialsCsv with a max-rate search', () => {
  it('carries http.maxRateAtSlo and its steps as value rows', () => {
    const t = trial({ datapath: 'ebpf', services: 20 }, [900], [50]);
    t.metrics['http.maxRateAtSlo'] = { unit: 'req/s', value: 1200 };
    t.metrics['http.maxRateSteps'] = { unit: 'count', value: 4 };
    const rows = parse(trialsCsv(run([t])), { columns: true }) as Record<string, string>[];
    expect(rows.find((r) => r.metric === 'http.maxRateAtSlo')).toMatchObject({ datapath: 'ebpf', services: '20', value: '1200', unit: 'req/s', p99: '' });
    expect(rows.find((r) => r.metric === 'http.maxRateSteps')).toMatchObject({ value: '4', unit: 'count' });
  });
});
