import { describe, expect, it } from 'vitest';
import { markdownSummary, summarize, summarizeMaxRate } from '../../../src/report/summary.js';
import type { TrialResult } from '../../../src/results/model.js';
import { dist, run, trial } from '../../fixtures/run-fixture.js';

describe('summary', () => {
  const r = run([
    trial({ datapath: 'iptables', services: 100, repeat: 1 }, [100], [50]),
    trial({ datapath: 'iptables', services: 100, repeat: 2 }, [300], [50]),
    trial({ datapath: 'iptables', services: 100, repeat: 3, status: 'invalid', reason: 'generator fell behind' }, [90_000], [50]),
    trial({ datapath: 'ipvs', services: 100, status: 'skipped', reason: 'kernel has no IP_VS', metrics: {} }, [], []),
  ]);

  it('merges valid repetitions as histograms and keeps invalid ones out of the numbers', () => {
    const [ipt] = summarize(r);
    expect(ipt).toMatchObject({ datapath: 'iptables', ok: 2, total: 3 });
    expect(ipt!.vip!.count).toBe(20);
    expect(ipt!.vip!.max).toBeLessThan(1000); // the invalid trial's 90 ms is not merged in
    expect(ipt!.repP50s).toEqual([100, 300]);
  });

  it('renders the datapath × services × load table and lists excluded trials apart', () => {
    const md = markdownSummary(r);
    expect(md).toMatch(/\| iptables \| 100 \| nc \| new \| 2\/3 \| 100µs \| 300µs \| 300µs \| 50µs \| 50µs \| 100µs–300µs \| – \| 100 \|/);
    expect(md).toMatch(/\| ipvs \| 100 \| nc \| new \| 0\/1 \| – \|/);
    expect(md).toMatch(/## Trials not counted[\s\S]*\| iptables-100-nc-r3 \| invalid \| generator fell behind \|/);
    expect(md).toMatch(/\| ipvs-100-nc-r1 \| skipped \| kernel has no IP_VS \|/);
    expect(md).not.toMatch(/SYN retransmits/);
  });

  it('shows the generator\'s merged schedule-lag p99 beside the latency, and the lag bound in force', () => {
    const t = trial({ datapath: 'ebpf', services: 100 }, [200], [150]);
    const md = markdownSummary({
      ...run([{ ...t, metrics: { ...t.metrics, 'http.scheduleLag': dist([3, 2500], 5) } }]),
      scenario: { name: 'fixture', selfCheck: { maxLagP99: 5000 } },
    });
    expect(md).toMatch(/\| ebpf \| 100 \| nc \| new \| 1\/1 \| 200µs \|.*\| 2\.50ms \| 100 \|/);
    expect(md).toMatch(/Trials with lag p99 over 5\.00ms are invalid/);
  });

  it('shows each datapath\'s growth from the fewest to the most services, VIP and connection set-up apart', () => {
    const withConnect = (t: TrialResult, connect: number) => ({ ...t, metrics: { ...t.metrics, 'http.connect': dist([connect], 10) } });
    const md = markdownSummary(run([
      withConnect(trial({ datapath: 'iptables', services: 1000 }, [200], [200]), 100),
      withConnect(trial({ datapath: 'iptables', services: 5000 }, [260], [260]), 150),
      withConnect(trial({ datapath: 'iptables', services: 20000 }, [500], [500]), 400),
      trial({ datapath: 'ebpf', services: 1000 }, [180], [180]),
      trial({ datapath: 'ebpf', services: 20000 }, [170], [170]),
      trial({ datapath: 'nftables', services: 1000 }, [190], [190]),
      trial({ datapath: 'nftables', services: 20000, status: 'invalid', reason: 'lag' }, [900], [900]),
    ]));
    expect(md).toMatch(/## Growth with the number of services/);
    expect(md).toMatch(/\| iptables \| nc \| 1,000 → 20,000 \| 200µs → 500µs \| 2\.50× \(\+300µs\) \| 100µs → 400µs \| 4\.00× \(\+300µs\) \|/);
    expect(md).toMatch(/\| ebpf \| nc \| 1,000 → 20,000 \| 180µs → 170µs \| 0\.94× \(-10µs\) \| – \| – \|/);
    // One valid service count says nothing about growth.
    expect(md).not.toMatch(/\| nftables \| nc \| 1,000 →/);
  });

  it('names the valid trials whose client retransmitted SYNs, since each one adds a second to the tail', () => {
    const t = trial({ datapath: 'iptables', services: 100, repeat: 1 }, [100], [50]);
    const withRtx = run([{ ...t, metrics: { ...t.metrics, 'tcp.synRetransmits': { unit: 'count', value: 12 } } }]);
    expect(markdownSummary(withRtx)).toMatch(/SYN retransmits \(each one is a connection that waited 1 s\): iptables-100-nc-r1 12\./);
  });
});

describe('summary of max-rate searches', () => {
  const search = { sloP99: 2000, minRate: 200, maxRate: 1600, resolution: 0.1, maxSteps: 4 };
  const searchTrial = (datapath: 'ebpf' | 'iptables', repeat: number, maxRate: number, p99: number, over: Partial<TrialResult> = {}) => {
    const t = trial({ datapath, services: 20, repeat }, [p99], [50]);
    return {
      ...t,
      id: `${datapath}-20-max-r${repeat}`,
      load: { ...t.load, name: 'max', rate: undefined, search },
      reason: `${maxRate * 2} req/s failed: p99 3000 µs > SLO 2000 µs`,
      metrics: {
        ...t.metrics,
        'http.maxRateAtSlo': { unit: 'req/s', value: maxRate },
        'http.maxRateSteps': { unit: 'count', value: repeat + 2 },
      },
      ...over,
    } satisfies TrialResult;
  };
  const r = run([
    trial({ datapath: 'ebpf', services: 20 }, [100], [50]),
    searchTrial('ebpf', 1, 800, 900),
    searchTrial('ebpf', 2, 1200, 1500),
    searchTrial('ebpf', 3, 1000, 1100),
    searchTrial('iptables', 1, 1600, 700, { reason: 'search.maxRate 1,600 req/s reached with p99 ≤ 2.00ms; the true max is higher' }),
    searchTrial('iptables', 2, 400, 90_000, { status: 'invalid', reason: 'the load generator, not the datapath, stopped the search at 800 req/s: generator busy 95%' }),
  ]);

  it('gives each search load a row: median max rate over valid reps, their range, latency at the max, steps', () => {
    const rows = summarizeMaxRate(r);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({ datapath: 'ebpf', load: 'max', sloP99Us: 2000, ceiling: 1600, ok: 3, total: 3, maxRates: [800, 1200, 1000], steps: 5 });
    expect(rows[0]!.vip!.max).toBeLessThan(1600);
    expect(rows[1]).toMatchObject({ datapath: 'iptables', ok: 1, total: 2, maxRates: [1600] });
  });

  it('renders a "Max rate at SLO" table apart from the fixed-rate table, and keeps invalid searches out of it', () => {
    const md = markdownSummary(r);
    expect(md).toMatch(/\| ebpf \| 20 \| nc \| new \| 1\/1 \|/);
    expect(md).not.toMatch(/\| ebpf \| 20 \| max \| new \| 3\/3 \| \d/); // not in the fixed-rate table
    expect(md).toMatch(/## Max rate at SLO/);
    expect(md).toMatch(/\| ebpf \| 20 \| max \| new \| 2.00ms \| 3\/3 \| 1,000 \| 800–1,200 \| 1.10ms \| 1.50ms \| 5 \| 1600 req\/s failed: p99 3000 µs > SLO 2000 µs \|/);
    // An answer at search.maxRate is a lower bound; the invalid repetition's 400 is not counted.
    expect(md).toMatch(/\| iptables \| 20 \| max \| new \| 2.00ms \| 1\/2 \| ≥ 1,600 \| – \| 700µs \| 700µs \| 4 \| search\.maxRate 1,600 req\/s reached/);
    expect(md).toMatch(/\| iptables-20-max-r2 \| invalid \| the load generator, not the datapath/);
  });

  it('shows only the max-rate table when every load is a search', () => {
    const md = markdownSummary(run([searchTrial('ebpf', 1, 800, 900)]));
    expect(md).not.toMatch(/\| datapath \| services \| load \| conn \| valid \|/);
    expect(md).toMatch(/## Max rate at SLO[\s\S]*\| ebpf \| 20 \| max \|/);
    expect(md).toMatch(/## What implemented each datapath\n\n- ebpf @ 20: lab: ebpf/);
  });
});
