import { describe, expect, it } from 'vitest';
import { backgroundServices } from '../../../../../src/targets/lab/addressing.js';
import {
  iptablesInstallBatches,
  base32Sha256,
  iptablesNatRules,
  kubeChainsIn,
  sepChainName,
  svcChainName,
  sumServiceJumpPackets,
} from '../../../../../src/targets/lab/datapaths/iptables.js';

const lines = (text: string, prefix: string) => text.split('\n').filter((l) => l.startsWith(prefix));

describe('iptablesNatRules', () => {
  it('hashes chain names the way kube-proxy does (base32 of sha256, 16 chars)', () => {
    // RFC 4648 test vector for the encoder, then the shape of a chain name.
    expect(base32Sha256('')).toBe('4OYMIQUY7QOBJGX36TEJS35ZEQT24QPEMSNZGTFESWMRW6CSXBKQ');
    const [svc] = backgroundServices(1, 1, 1);
    expect(svcChainName(svc!)).toMatch(/^KUBE-SVC-[A-Z2-7]{16}$/);
    // The names kube-proxy's own tests expect for ns1/svc1:p80 → 10.180.0.1:80.
    const ns1 = { ...svc!, namespace: 'ns1', name: 'svc1' };
    expect(svcChainName(ns1)).toBe('KUBE-SVC-XPGD46QRK7WJZT7O');
    expect(sepChainName(ns1, { ip: '10.180.0.1', port: 80 })).toBe('KUBE-SEP-SXIVWICOYRO3J4NJ');
  });

  it('with no services keeps only the fixed chains and the final nodeports rule', () => {
    const r = iptablesNatRules([]);
    expect(r.chains).toEqual(['KUBE-SERVICES', 'KUBE-NODEPORTS', 'KUBE-POSTROUTING', 'KUBE-MARK-MASQ']);
    expect(lines(r.text, '-A KUBE-SERVICES')).toHaveLength(1);
    expect(r.text.startsWith('*nat\n')).toBe(true);
    expect(r.text.endsWith('COMMIT\n')).toBe(true);
  });

  it('writes one KUBE-SERVICES rule per service, then the nodeports rule last', () => {
    const svcs = backgroundServices(50, 3, 4);
    const r = iptablesNatRules(svcs);
    const s = lines(r.text, '-A KUBE-SERVICES');
    expect(s).toHaveLength(51);
    expect(s[0]).toContain('"bench/svc-0:p80 cluster IP" -m tcp -p tcp -d 198.19.1.0/32 --dport 80 -j KUBE-SVC-');
    expect(s.at(-1)).toContain('-j KUBE-NODEPORTS');
    // per service: 1 KUBE-SERVICES + 1 masq + k jumps + 2k SEP rules; plus 4 fixed + 1 nodeports
    expect(r.rules).toBe(50 * (2 + 3 * 3) + 5);
    expect(r.chains).toHaveLength(4 + 50 * 4);
  });

  it('gives each endpoint an equal share: the statistic probabilities chain to 1/n each', () => {
    for (const k of [1, 2, 3, 5, 8]) {
      const [svc] = backgroundServices(1, k, 8);
      const chain = svcChainName(svc!);
      const jumps = lines(iptablesNatRules([svc!]).text, `-A ${chain}`).filter((l) => l.includes('-j KUBE-SEP-'));
      expect(jumps).toHaveLength(k);
      expect(jumps.at(-1)).not.toContain('statistic');
      let remaining = 1;
      for (const j of jumps) {
        const m = /--probability (\S+)/.exec(j);
        const p = m ? Number(m[1]) : 1;
        expect(remaining * p).toBeCloseTo(1 / k, 8);
        remaining *= 1 - p;
      }
      expect(remaining).toBeCloseTo(0, 8);
    }
  });

  it('masquerades off-cluster sources, hairpin traffic, then DNATs to the endpoint', () => {
    const [svc] = backgroundServices(1, 1, 1);
    const text = iptablesNatRules([svc!]).text;
    expect(text).toContain('! -s 198.18.0.0/16 -j KUBE-MARK-MASQ');
    expect(text).toMatch(/-A KUBE-SEP-\S+ -m comment --comment bench\/svc-0:p80 -s 198\.18\.2\.10\/32 -j KUBE-MARK-MASQ/);
    expect(text).toMatch(/-A KUBE-SEP-\S+ .* -m tcp -p tcp -j DNAT --to-destination 198\.18\.2\.10:8080/);
    expect(text).toContain('-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000');
    expect(text).toContain('-j MASQUERADE --random-fully');
  });

  it('declares then deletes the chains of removed services', () => {
    const svcs = backgroundServices(3, 2, 2);
    const before = iptablesNatRules(svcs);
    const after = iptablesNatRules(svcs.slice(0, 2), before.chains);
    const gone = svcChainName(svcs[2]!);
    expect(after.text).toContain(`:${gone} - [0:0]`);
    expect(after.text).toContain(`-X ${gone}`);
    expect(lines(after.text, '-X ')).toHaveLength(3);
  });
});

describe('iptablesInstallBatches', () => {
  const restoreLines = (text: string) => text.split('\n').filter((l) => l.startsWith('-A ') || l.startsWith(':'));
  it('reaches the same chains and rules as one full restore, KUBE-SERVICES in the same order, nodeports last', () => {
    for (const n of [1, 7, 600]) {
      // 600 services × 2 endpoints passes the large-cluster threshold in total, not per batch.
      const services = backgroundServices(n, 2, 2);
      const full = iptablesNatRules(services);
      const batches = iptablesInstallBatches(services, 250);
      expect(batches).toHaveLength(Math.ceil(n / 250));
      const all = batches.flatMap((b) => restoreLines(b.text));
      expect([...all].sort()).toEqual([...restoreLines(full.text)].sort());
      const svc = (ls: string[]) => ls.filter((l) => l.startsWith('-A KUBE-SERVICES '));
      expect(svc(all)).toEqual(svc(restoreLines(full.text)));
      expect(svc(all).at(-1)).toMatch(/KUBE-NODEPORTS$/);
      expect(batches.reduce((k, b) => k + b.rules, 0)).toBe(full.rules);
      expect(batches.flatMap((b) => b.chains).sort()).toEqual([...full.chains].sort());
    }
  });
  it('declares the base chains only in the first restore, so later ones do not flush KUBE-SERVICES', () => {
    const [a, b] = iptablesInstallBatches(backgroundServices(4, 1, 1), 2);
    expect(a!.text).toContain(':KUBE-SERVICES - [0:0]');
    expect(b!.text).not.toContain(':KUBE-SERVICES');
    expect(b!.text).not.toContain('KUBE-MARK-MASQ -j MARK');
  });
});

describe('counter and chain parsing', () => {
  const listing = [
    'Chain KUBE-SERVICES (2 references)',
    '    pkts      bytes target     prot opt in     out     source               destination',
    '       7      420 KUBE-SVC-NUZSQCQRZDK3VYZT  6    --  *      *       0.0.0.0/0            198.19.1.0           /* bench/svc-0:p80 cluster IP */ tcp dpt:80',
    '       5      300 KUBE-SVC-Y2J2XIYGSARIWCZU  6    --  *      *       0.0.0.0/0            198.19.1.1           /* bench/svc-1:p80 cluster IP */ tcp dpt:80',
    '      99     5940 KUBE-NODEPORTS  0    --  *      *       0.0.0.0/0            0.0.0.0/0            ADDRTYPE match dst-type LOCAL',
  ].join('\n');
  it('sums only the KUBE-SERVICES → KUBE-SVC jumps', () => expect(sumServiceJumpPackets(listing)).toBe(12));
  const save = ['*nat', ':KUBE-SERVICES - [0:0]', ':KUBE-SVC-AAAA - [0:0]', ':PREROUTING ACCEPT [0:0]', 'COMMIT'].join('\n');
  it('lists KUBE chains from iptables-save', () => expect(kubeChainsIn(save)).toEqual(['KUBE-SERVICES', 'KUBE-SVC-AAAA']));
});
