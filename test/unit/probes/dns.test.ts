import { describe, expect, it } from 'vitest';
import { DnsProbeSchema, dnsMetrics, dnsPlan } from '../../../src/probes/dns.js';
import { isDistribution } from '../../../src/results/model.js';
import { backgroundServices } from '../../../src/targets/lab/addressing.js';

const services = backgroundServices(1000, 2, 2);

describe('dnsPlan', () => {
  const plan = dnsPlan(services, DnsProbeSchema.parse({ samples: 40, warmup: 4 }), 2);

  it('pairs a service lookup with an external search-path lookup, warm-up first', () => {
    expect(plan.lookups).toHaveLength(88);
    expect(plan.lookups.filter((l) => !l.measured)).toHaveLength(8);
    expect(plan.lookups.slice(0, 8).every((l) => !l.measured)).toBe(true);
    const svc = plan.lookups.find((l) => l.kind === 'service')!;
    const i = Number(/^svc-(\d+)\./.exec(svc.names[0]!)![1]);
    expect(svc).toMatchObject({ names: [`svc-${i}.bench.svc.cluster.local`], expect: services[i]!.vip });
    expect(plan.lookups.find((l) => l.kind === 'external')!.names).toEqual([
      'dpbench-external.example.bench.svc.cluster.local',
      'dpbench-external.example.svc.cluster.local',
      'dpbench-external.example.cluster.local',
      'dpbench-external.example',
    ]);
  });
});

describe('dnsMetrics', () => {
  it('splits the two kinds and counts failed measured lookups only', () => {
    const plan = dnsPlan(services, DnsProbeSchema.parse({ samples: 20, warmup: 1 }));
    const us: number[] = plan.lookups.map((l) => (l.kind === 'service' ? 300 : 1200));
    us[0] = -1; // a warm-up failure does not count
    us[us.length - 1] = -1;
    const r = dnsMetrics(plan, { us, queries: 123, errors: { ETIMEOUT: 2 } });
    expect(r.attempts).toBe(40);
    expect(r.errors).toBe(1);
    const lookup = r.metrics['dns.lookup']!;
    const external = r.metrics['dns.lookup.external']!;
    expect(isDistribution(lookup) && [lookup.count >= 19, lookup.p50]).toEqual([true, 300]);
    expect(isDistribution(external) && [external.count >= 19, external.p50]).toEqual([true, 1200]);
    expect(r.metrics['dns.queries']).toEqual({ unit: 'count', value: 123 });
  });
});
