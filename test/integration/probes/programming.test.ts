import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProgrammingProbeSchema, runProgrammingProbe } from '../../../src/probes/programming.js';
import { isDistribution } from '../../../src/results/model.js';
import { backgroundServices, probeService } from '../../../src/targets/lab/addressing.js';
import type { Datapath } from '../../../src/targets/lab/datapaths/datapath.js';
import { createDatapath } from '../../../src/targets/lab/datapaths/registry.js';
import { labDown, labUp, type Lab } from '../../../src/targets/lab/topology.js';
import { curlFromClient } from '../targets/lab/datapaths/mini-lab.js';

const services = backgroundServices(500, 2, 2);

describe.each(['iptables', 'nftables', 'ebpf'] as const)('programming probe on the real %s datapath', (name) => {
  let lab: Lab;
  let dp: Datapath;

  beforeAll(async () => {
    lab = await labUp({ pods: 2, iptables: 'nft' });
    dp = createDatapath(name, lab);
    expect(await dp.unavailable()).toBeNull();
    await dp.install(services);
  }, 60_000);

  afterAll(async () => {
    await dp?.uninstall().catch(() => {});
    if (lab) await labDown(lab);
  }, 60_000);

  it('times adds and removes from the change to the first connection that sees it', async () => {
    const make = (k: number) => probeService(k, services.length, 2, 2);
    const r = await runProgrammingProbe(dp, make, ProgrammingProbeSchema.parse({ changes: 4 }), { netns: lab.clientNs, cgroup: lab.clientCgroup }, lab.runDir);
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
    for (let k = 0; k < 4; k++) expect(await curlFromClient(lab, make(k).vip)).toBeNull();
    expect(await curlFromClient(lab, services[499]!.vip)).toBe('ok\n');
  }, 120_000);

  it('refuses to time a change whose VIP already answers', async () => {
    const already = { ...services[3]!, index: 9999 };
    const r = await runProgrammingProbe(dp, () => already, ProgrammingProbeSchema.parse({ changes: 1 }), { netns: lab.clientNs, cgroup: lab.clientCgroup }, lab.runDir);
    expect(r.samples).toHaveLength(0);
    expect(r.errors.join()).toMatch(/already up/);
  }, 60_000);
});
