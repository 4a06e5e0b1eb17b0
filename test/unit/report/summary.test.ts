import { describe, expect, it } from 'vitest';
import { markdownSummary, summarize } from '../../../src/report/summary.js';
import { run, trial } from '../../fixtures/run-fixture.js';

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
    expect(md).toMatch(/\| iptables \| 100 \| nc \| new \| 2\/3 \| 100µs \| 300µs \| 300µs \| 50µs \| 50µs \| 100µs–300µs \| 100 \|/);
    expect(md).toMatch(/\| ipvs \| 100 \| nc \| new \| 0\/1 \| – \|/);
    expect(md).toMatch(/## Trials not counted[\s\S]*\| iptables-100-nc-r3 \| invalid \| generator fell behind \|/);
    expect(md).toMatch(/\| ipvs-100-nc-r1 \| skipped \| kernel has no IP_VS \|/);
  });
});
