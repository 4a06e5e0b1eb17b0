import { describe, expect, it } from 'vitest';
import { backgroundServices, dnsService } from '../../../../../src/targets/lab/addressing.js';
import {
  kubeProxyEndpointOrder,
  nftAddServiceText,
  nftAddServicesText,
  nftDnatRule,
  nftRemoveServiceText,
  nftRuleset,
  nftServiceChain,
  sumNftMapPackets,
  serviceRuleCount,
} from '../../../../../src/targets/lab/datapaths/nftables.js';

/** Index of the last line starting with `prefix` (-1 if none); findLastIndex is ES2023, the project targets ES2022. */
const lastIndex = (lines: string[], prefix: string) => lines.map((l) => l.startsWith(prefix)).lastIndexOf(true);

const count = (text: string, re: RegExp) => text.split('\n').filter((l) => re.test(l)).length;

describe('nftRuleset (kube-proxy v1.37 nftables shape)', () => {
  it('names service chains like kube-proxy: 8-char hash, then ns/name/proto/port', () => {
    const [svc] = backgroundServices(1, 1, 1);
    expect(nftServiceChain(svc!)).toMatch(/^service-[A-Z2-7]{8}-bench\/svc-0\/tcp\/p80$/);
    // The name kube-proxy's own tests expect for ns1/svc1:p80.
    expect(nftServiceChain({ ...svc!, namespace: 'ns1', name: 'svc1' })).toBe('service-ULMVA6XW-ns1/svc1/tcp/p80');
  });

  it('with no services has the sets, maps, filter and nat hook chains, and empty service maps', () => {
    const r = nftRuleset([]);
    expect(r.elements).toBe(0);
    expect(r.text).toMatch(/^add table ip kube-proxy\ndelete table ip kube-proxy\n/);
    for (const set of ['hairpin-connections', 'cluster-ips', 'nodeport-ips']) expect(r.text).toContain(`add set ip kube-proxy ${set} {`);
    for (const map of ['no-endpoint-services', 'no-endpoint-nodeports', 'firewall-ips', 'service-ips', 'service-nodeports']) {
      expect(r.text).toContain(`add map ip kube-proxy ${map} {`);
    }
    expect(r.text).toContain('add chain ip kube-proxy filter-prerouting-pre-dnat { type filter hook prerouting priority -110 ; }');
    expect(r.text).toContain('add chain ip kube-proxy nat-output { type nat hook output priority -100 ; }');
    expect(r.text).toContain('add rule ip kube-proxy filter-forward ct state new jump cluster-ips-check');
    expect(r.text).toContain('add rule ip kube-proxy services ip daddr . meta l4proto . th dport vmap @service-ips');
    expect(r.text).toContain('add rule ip kube-proxy services ip daddr @cluster-ips ip saddr != 198.18.0.0/16 meta mark set meta mark | 0x4000');
    expect(r.text).toContain('add rule ip kube-proxy cluster-ips-check ip daddr 198.19.0.0/16 drop');
    expect(r.text).not.toContain('mark-for-masquerade');
    expect(r.text).not.toMatch(/add chain ip kube-proxy endpoint-/);
    // Only node-a's own address, in nodeport-ips.
    expect(count(r.text, /^add element/)).toBe(1);
    expect(r.rules).toBe(count(r.text, /^add rule /));
  });

  it('declares every chain before the first rule (a jump needs its target)', () => {
    const lines = nftRuleset([]).text.split('\n');
    expect(lastIndex(lines, 'add chain')).toBeLessThan(lines.findIndex((l) => l.startsWith('add rule')));
  });

  it('has one service chain with one rule, one cluster-ips and one service-ips element per service', () => {
    const svcs = backgroundServices(2500, 3, 4);
    const r = nftRuleset(svcs);
    expect(r.elements).toBe(2500);
    expect(count(r.text, /^add chain ip kube-proxy service-[A-Z2-7]{8}-/)).toBe(2500);
    expect(count(r.text, /^add rule ip kube-proxy service-\S+ meta l4proto tcp dnat ip addr \. port to numgen random mod 3 map /)).toBe(2500);
    // elements are chunked, 1000 per statement
    expect(count(r.text, /^add element ip kube-proxy service-ips/)).toBe(3);
    expect(count(r.text, /^add element ip kube-proxy cluster-ips/)).toBe(3);
    expect((r.text.match(/ : goto service-/g) ?? []).length).toBe(2500);
    expect(r.rules).toBe(count(r.text, /^add rule /));
    expect(r.rules).toBe(22 + svcs.reduce((a, s) => a + serviceRuleCount(s), 0));
  });

  it('dnats with numgen random mod k into an address . port map, endpoints in kube-proxy order', () => {
    const svc = { ...backgroundServices(1, 1, 1)[0]!, endpoints: [11, 100, 10, 9].map((n) => ({ ip: `198.18.2.${n}`, port: 8080 })) };
    // kube-proxy sorts "ip:port" strings: "…2.100:8080" < "…2.10:8080" ('0' < ':') < "…2.11:8080" < "…2.9:8080"
    expect(kubeProxyEndpointOrder(svc.endpoints).map((e) => e.ip)).toEqual(['198.18.2.100', '198.18.2.10', '198.18.2.11', '198.18.2.9']);
    expect(nftDnatRule(svc)).toBe(
      'meta l4proto tcp dnat ip addr . port to numgen random mod 4 map { 0 : 198.18.2.100 . 8080 , 1 : 198.18.2.10 . 8080 , 2 : 198.18.2.11 . 8080 , 3 : 198.18.2.9 . 8080 }',
    );
  });

  it('dnats a single-endpoint service directly, with its own protocol (DNS over UDP)', () => {
    expect(nftDnatRule(dnsService(10))).toBe('meta l4proto udp dnat to 198.18.2.250:53');
    expect(nftAddServiceText(dnsService(10))).toMatch(/add element ip kube-proxy service-ips \{ 198\.19\.0\.10 \. udp \. 53 : goto service-[A-Z2-7]{8}-kube-system\/kube-dns\/udp\/p53 \}/);
  });

  it('rejects a service without endpoints through no-endpoint-services, with no chain', () => {
    const svc = { ...backgroundServices(1, 1, 1)[0]!, endpoints: [] };
    const text = nftAddServiceText(svc);
    expect(text).not.toContain('add chain');
    expect(text).toContain('add element ip kube-proxy cluster-ips { 198.19.1.0 }');
    expect(text).toContain('add element ip kube-proxy no-endpoint-services { 198.19.1.0 . tcp . 80 comment "bench/svc-0:p80" : goto reject-chain }');
    expect(text).not.toContain('service-ips');
    expect(nftRemoveServiceText(svc)).toContain('delete element ip kube-proxy no-endpoint-services { 198.19.1.0 . tcp . 80 }');
  });

  it('adds chains before the elements that point at them', () => {
    const lines = nftAddServicesText(backgroundServices(3, 2, 2)).trim().split('\n');
    expect(lastIndex(lines, 'add rule')).toBeLessThan(lines.findIndex((l) => l.startsWith('add element')));
  });

  it('removes a service by unmapping first, then flushing and deleting its chain', () => {
    const [svc] = backgroundServices(1, 2, 2);
    const lines = nftRemoveServiceText(svc!).trim().split('\n');
    expect(lines[0]).toBe('delete element ip kube-proxy cluster-ips { 198.19.1.0 }');
    expect(lines[1]).toBe('delete element ip kube-proxy service-ips { 198.19.1.0 . tcp . 80 }');
    expect(lines.slice(2)).toEqual([`flush chain ip kube-proxy ${nftServiceChain(svc!)}`, `delete chain ip kube-proxy ${nftServiceChain(svc!)}`]);
  });

  it('counts on the service-ips map and sums its element counters', () => {
    expect(nftRuleset([]).text).toMatch(/add map ip kube-proxy service-ips \{ type ipv4_addr \. inet_proto \. inet_service : verdict ; counter ;/);
    const listing = 'elements = { 198.19.1.0 . tcp . 80 counter packets 40 bytes 2400 : goto service-A-x,\n\t\t198.19.1.1 . tcp . 80 counter packets 2 bytes 120 : goto service-B-y }';
    expect(sumNftMapPackets(listing)).toBe(42);
  });
});
