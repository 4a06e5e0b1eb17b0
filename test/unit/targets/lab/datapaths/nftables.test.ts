import { describe, expect, it } from 'vitest';
import { backgroundServices } from '../../../../../src/targets/lab/addressing.js';
import {
  nftAddServiceText,
  nftEndpointChain,
  nftRemoveServiceText,
  nftRuleset,
  nftServiceChain,
  sumNftMapPackets,
  serviceRuleCount,
} from '../../../../../src/targets/lab/datapaths/nftables.js';

const count = (text: string, re: RegExp) => text.split('\n').filter((l) => re.test(l)).length;

describe('nftRuleset', () => {
  it('names chains like kube-proxy: 8-char hash, then ns/name/proto/port', () => {
    const [svc] = backgroundServices(1, 1, 1);
    expect(nftServiceChain(svc!)).toMatch(/^service-[A-Z2-7]{8}-bench\/svc-0\/tcp\/p80$/);
    expect(nftEndpointChain(svc!, svc!.endpoints[0]!)).toMatch(/^endpoint-[A-Z2-7]{8}-bench\/svc-0\/tcp\/p80__198\.18\.2\.10\/8080$/);
    // The names kube-proxy's own tests expect for ns1/svc1:p80 → 10.180.0.1:80.
    const ns1 = { ...svc!, namespace: 'ns1', name: 'svc1' };
    expect(nftServiceChain(ns1)).toBe('service-ULMVA6XW-ns1/svc1/tcp/p80');
    expect(nftEndpointChain(ns1, { ip: '10.180.0.1', port: 80 })).toBe('endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80');
  });

  it('with no services is a table with the base chains and an empty map', () => {
    const r = nftRuleset([]);
    expect(r.elements).toBe(0);
    expect(r.text).toMatch(/^add table ip kube-proxy\ndelete table ip kube-proxy\n/);
    expect(r.text).toContain('add chain ip kube-proxy nat-prerouting { type nat hook prerouting priority dstnat ; }');
    expect(r.text).toContain('add chain ip kube-proxy nat-output { type nat hook output priority -100 ; }');
    expect(r.text).toContain('ip daddr . meta l4proto . th dport vmap @service-ips');
    expect(count(r.text, /^add element/)).toBe(0);
  });

  it('has one map element, one service chain and k endpoint chains per service', () => {
    const svcs = backgroundServices(2500, 3, 4);
    const r = nftRuleset(svcs);
    expect(r.elements).toBe(2500);
    expect(count(r.text, /^add chain ip kube-proxy service-/)).toBe(2500);
    expect(count(r.text, /^add chain ip kube-proxy endpoint-/)).toBe(7500);
    expect(count(r.text, /dnat to 198\.18\.2\.\d+:8080$/)).toBe(7500);
    // elements are chunked, 1000 per statement
    expect(count(r.text, /^add element ip kube-proxy service-ips/)).toBe(3);
    expect((r.text.match(/ : goto service-/g) ?? []).length).toBe(2500);
    expect(r.rules).toBe(count(r.text, /^add rule /));
    expect(r.rules).toBe(8 + svcs.reduce((a, s) => a + serviceRuleCount(s), 0));
  });

  it('spreads over every endpoint with numgen random mod k, each index once', () => {
    const [svc] = backgroundServices(1, 5, 8);
    const text = nftAddServiceText(svc!);
    const m = /numgen random mod (\d+) vmap \{ (.*) \}/.exec(text);
    expect(m?.[1]).toBe('5');
    const idx = m![2]!.split(' , ').map((e) => Number(e.split(' : ')[0]));
    expect(idx).toEqual([0, 1, 2, 3, 4]);
    expect(text).toContain('ip saddr != 198.18.0.0/16 jump mark-for-masquerade');
    expect(text).toMatch(/add element ip kube-proxy service-ips \{ 198\.19\.1\.0 \. tcp \. 80 : goto service-/);
  });

  it('removes a service by unmapping first, then flushing and deleting its chains', () => {
    const [svc] = backgroundServices(1, 2, 2);
    const lines = nftRemoveServiceText(svc!).trim().split('\n');
    expect(lines[0]).toBe('delete element ip kube-proxy service-ips { 198.19.1.0 . tcp . 80 }');
    expect(lines.filter((l) => l.startsWith('flush chain'))).toHaveLength(3);
    expect(lines.filter((l) => l.startsWith('delete chain'))).toHaveLength(3);
    expect(lines.findIndex((l) => l.startsWith('delete chain'))).toBeGreaterThan(lines.findLastIndex((l) => l.startsWith('flush')));
  });

  it('counts on the service-ips map and sums its element counters', () => {
    expect(nftRuleset([]).text).toMatch(/add map ip kube-proxy service-ips \{ type ipv4_addr \. inet_proto \. inet_service : verdict ; counter ;/);
    const listing = 'elements = { 198.19.1.0 . tcp . 80 counter packets 40 bytes 2400 : goto service-A-x,\n\t\t198.19.1.1 . tcp . 80 counter packets 2 bytes 120 : goto service-B-y }';
    expect(sumNftMapPackets(listing)).toBe(42);
  });
});
