import { describe, expect, it } from 'vitest';
import { ProgrammingProbeSchema, runProgrammingProbe } from '../../../src/probes/programming.js';
import { isDistribution } from '../../../src/results/model.js';
import { backgroundServices, probeService } from '../../../src/targets/lab/addressing.js';
import { labWithDatapath } from '../helpers/lab-datapath.js';
import { curlFromClient } from '../targets/lab/datapaths/mini-lab.js';

const services = backgroundServices(500, 2, 2);

describe.each(['iptables', 'nftables', 'ebpf'] as const)('programming probe on the real %s datapath', (name) => {
  const t = labWithDatapath(name, { services });

  it('times adds and removes from the change to the first connection that sees it', async () => {
    const make = (k: number) => probeService(k, services.length, 2, 2);
    const r = await runProgrammingProbe(t.dp, make, ProgrammingProbeSchema.parse({ changes: 4 }), { netns: t.lab.clientNs, cgroup: t.lab.clientCgroup }, t.lab.runDir);
    expect(r.errors).toEqual([]);
    expect(r.samples).toHaveLength(4);
    for (const s of r.samples) {
      // Seen after the change started, and within a few seconds on any machine.
      expect(s.addUs).toBeGreaterThan(0);
      expect(s.addUs).toBeLessThan(10_000_000);
      expect(s.removeUs).toBeGreaterThan(0);
    }
    const add = r.metrics['programming.add']!;
    expect(isDistribution(add) && add.count).toBe(4);
    // Every probe service is gone again, and the background services still answer.
    for (let k = 0; k < 4; k++) expect(await curlFromClient(t.lab, make(k).vip)).toBeNull();
    expect(await curlFromClient(t.lab, services[499]!.vip)).toBe('ok\n');
  }, 120_000);

  it('refuses to time a change whose VIP already answers', async () => {
    const already = { ...services[3]!, index: 9999 };
    const r = await runProgrammingProbe(t.dp, () => already, ProgrammingProbeSchema.parse({ changes: 1 }), { netns: t.lab.clientNs, cgroup: t.lab.clientCgroup }, t.lab.runDir);
    expect(r.samples).toHaveLength(0);
    expect(r.errors.join()).toMatch(/already up/);
  }, 60_000);
});
