import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DnsProbeSchema, runDnsProbe } from '../../../src/probes/dns.js';
import { isDistribution } from '../../../src/results/model.js';
import { backgroundServices, dnsService } from '../../../src/targets/lab/addressing.js';
import type { Datapath } from '../../../src/targets/lab/datapaths/datapath.js';
import { createDatapath } from '../../../src/targets/lab/datapaths/registry.js';
import { startDnsServer } from '../../../src/targets/lab/dns.js';
import { labDown, labUp, type Lab } from '../../../src/targets/lab/topology.js';
import { pidsOf } from '../helpers/host.js';

const services = backgroundServices(2000, 2, 2);
const opts = DnsProbeSchema.parse({ samples: 50, warmup: 5 });

describe.each(['nftables', 'ebpf'] as const)('dns probe through the %s datapath (dnsmasq behind a UDP VIP)', (name) => {
  let lab: Lab;
  let dp: Datapath;
  let dnsmasqPid = 0;
  const where = () => ({ netns: lab.clientNs, cgroup: lab.clientCgroup });

  beforeAll(async () => {
    lab = await labUp({ pods: 2, iptables: 'nft', dns: true });
    dnsmasqPid = (await startDnsServer(lab, services)).pid;
    dp = createDatapath(name, lab);
    expect(await dp.unavailable()).toBeNull();
    await dp.install([...services, dnsService(services.length)]);
  }, 60_000);

  afterAll(async () => {
    await dp?.uninstall().catch(() => {});
    if (lab) {
      const removed = await labDown(lab);
      // Teardown stops dnsmasq by the PID recorded in the lab state.
      expect(removed).toContain(`process dnsmasq(${dnsmasqPid})`);
      expect(pidsOf('dnsmasq')).not.toContain(dnsmasqPid);
    }
  }, 60_000);

  it('resolves service names and walks the ndots:5 search path, every query through the DNS VIP', async () => {
    const before = await dp.decisions();
    const r = await runDnsProbe(services, opts, where());
    expect(r.errorCodes).toEqual({});
    expect(r.errors).toBe(0);
    const lookup = r.metrics['dns.lookup']!;
    const external = r.metrics['dns.lookup.external']!;
    expect(isDistribution(lookup) && lookup.count).toBe(50);
    expect(isDistribution(external) && external.count).toBe(50);
    // Four names (three search domains, then the name itself), A + AAAA each, against one name.
    expect(r.metrics['dns.queries']).toEqual({ unit: 'count', value: 55 * 2 + 55 * 8 });
    // The search path costs four round trips where a service name costs one.
    expect(isDistribution(external) && isDistribution(lookup) && external.p50 > lookup.p50).toBe(true);
    // Each lookup opens a new socket: at least one datapath decision per lookup.
    expect((await dp.decisions()) - before).toBeGreaterThanOrEqual(110);
  }, 60_000);

  it('fails every lookup once the DNS VIP is gone', async () => {
    await dp.removeService(dnsService(services.length));
    const r = await runDnsProbe(services, DnsProbeSchema.parse({ samples: 20, warmup: 0, timeout: 0.2 }), where());
    expect(r.errors).toBe(40);
    expect(r.metrics['dns.errors']).toEqual({ unit: 'count', value: 40 });
  }, 60_000);
});
