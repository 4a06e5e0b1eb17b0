import { describe, expect, it } from 'vitest';
import { ConnectProbeSchema, runConnectProbe } from '../../../src/probes/connect.js';
import { isDistribution } from '../../../src/results/model.js';
import { BACKEND_PORT, backgroundServices, serviceVip } from '../../../src/targets/lab/addressing.js';
import { labWithDatapath } from '../helpers/lab-datapath.js';

const services = backgroundServices(300, 2, 2);
const opts = ConnectProbeSchema.parse({ samples: 100, warmup: 5 });

describe.each(['iptables', 'ebpf'] as const)('connect probe on the real %s datapath', (name) => {
  const t = labWithDatapath(name, { services });
  const where = () => ({ netns: t.lab.clientNs, cgroup: t.lab.clientCgroup });

  it('times VIP, last-installed VIP and direct connections, all through the datapath', async () => {
    const before = await t.dp.decisions();
    const r = await runConnectProbe(services, t.lab.podIps, BACKEND_PORT, opts, where());
    const seen = (await t.dp.decisions()) - before;
    expect(r.errors).toBe(0);
    expect(r.attempts).toBe(300);
    // Warm-up included: 105 rounds × (random VIP + last VIP), each one datapath decision.
    expect(r.vipConnections).toBe(210);
    expect(seen).toBe(210);
    for (const m of ['connect.vip', 'connect.vip.worst', 'connect.direct']) {
      const d = r.metrics[m]!;
      expect(isDistribution(d) && d.count).toBe(100);
      // A lab connect is a veth round trip: more than a µs, far less than a second.
      expect(isDistribution(d) && d.p50 > 1 && d.p50 < 100_000).toBe(true);
    }
    const low = r.metrics['connect.natCost.ci95Low']!;
    const mid = r.metrics['connect.natCost']!;
    const high = r.metrics['connect.natCost.ci95High']!;
    expect('value' in low && 'value' in mid && 'value' in high && low.value <= mid.value && mid.value <= high.value).toBe(true);
  }, 60_000);

  it('counts connections to a VIP the datapath does not have as errors', async () => {
    const missing = { ...services[0]!, index: 5000, vip: serviceVip(5000) };
    const r = await runConnectProbe([missing], t.lab.podIps, BACKEND_PORT, ConnectProbeSchema.parse({ samples: 20, warmup: 0, timeout: 0.2 }), where());
    expect(r.errors).toBe(40);
    expect(r.vipConnections).toBe(0);
    expect(r.metrics['connect.errors']).toEqual({ unit: 'count', value: 40 });
  }, 60_000);
});
