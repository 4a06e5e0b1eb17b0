import { describe, expect, it } from 'vitest';
import { backgroundServices, DNS_POD_IP, dnsService } from '../../../../src/targets/lab/addressing.js';
import { dnsmasqArgs, hostsFile, searchPath, serviceFqdn } from '../../../../src/targets/lab/dns.js';

describe('lab DNS', () => {
  it('walks the search path before the name itself below ndots:5', () => {
    expect(searchPath('example.com')).toEqual([
      'example.com.bench.svc.cluster.local',
      'example.com.svc.cluster.local',
      'example.com.cluster.local',
      'example.com',
    ]);
    expect(searchPath('a.b.c.d.e.f')[0]).toBe('a.b.c.d.e.f');
  });

  it('writes one hosts line per service', () => {
    const s = backgroundServices(3, 1, 1);
    expect(hostsFile(s)).toBe(`198.19.1.0 svc-0.bench.svc.cluster.local\n198.19.1.1 svc-1.bench.svc.cluster.local\n198.19.1.2 svc-2.bench.svc.cluster.local\n`);
    expect(serviceFqdn(dnsService(3))).toBe('kube-dns.kube-system.svc.cluster.local');
  });

  it('runs dnsmasq with no upstream, so no query can leave the lab', () => {
    const a = dnsmasqArgs('/run/x');
    expect(a).toContain('--no-resolv');
    expect(a.some((x) => x.startsWith('--server'))).toBe(false);
    expect(a).toContain(`--listen-address=${DNS_POD_IP}`);
  });

  it('puts the DNS service behind its VIP on UDP 53, after the background services', () => {
    expect(dnsService(40000)).toMatchObject({ index: 40000, vip: '198.19.0.10', port: 53, protocol: 'udp', endpoints: [{ ip: DNS_POD_IP, port: 53 }] });
  });
});
