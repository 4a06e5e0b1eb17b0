import { describe, expect, it } from 'vitest';
import { backgroundServices } from '../../../../../src/targets/lab/addressing.js';
import { dummyAddrBatch, ipsetRestore, ipvsadmRestore, ipvsNatRules, sumIpvsConns } from '../../../../../src/targets/lab/datapaths/ipvs.js';

describe('ipvs generators', () => {
  it('writes nothing to ipvsadm and an empty ipset for no services', () => {
    expect(ipvsadmRestore([])).toBe('');
    expect(dummyAddrBatch([])).toBe('');
    expect(ipsetRestore([]).trim().split('\n')).toHaveLength(2);
  });

  it('one rr virtual server and k masq real servers per service', () => {
    const svcs = backgroundServices(10, 3, 4);
    const lines = ipvsadmRestore(svcs).trim().split('\n');
    expect(lines.filter((l) => l.startsWith('-A '))).toHaveLength(10);
    expect(lines.filter((l) => l.startsWith('-a '))).toHaveLength(30);
    expect(lines[0]).toBe('-A -t 198.19.1.0:80 -s rr');
    expect(lines[1]).toBe('-a -t 198.19.1.0:80 -r 198.18.2.10:8080 -m -w 1');
  });

  it('puts each VIP in KUBE-CLUSTER-IP and on kube-ipvs0', () => {
    const svcs = backgroundServices(10, 1, 1);
    const set = ipsetRestore(svcs);
    expect(set).toContain('create KUBE-CLUSTER-IP hash:ip,port family inet');
    expect(set.split('\n').filter((l) => l.startsWith('add KUBE-CLUSTER-IP'))).toHaveLength(10);
    expect(set).toContain('add KUBE-CLUSTER-IP 198.19.1.9,tcp:80 -exist');
    expect(dummyAddrBatch(svcs).trim().split('\n')[0]).toBe('addr add 198.19.1.0/32 dev kube-ipvs0');
  });

  it('masquerades off-cluster traffic matching the ipset', () => {
    expect(ipvsNatRules()).toContain('-m set --match-set KUBE-CLUSTER-IP dst,dst ! -s 198.18.0.0/16 -j KUBE-MARK-MASQ');
  });

  it('sums virtual-server connections from ipvsadm --stats', () => {
    const stats = [
      'IP Virtual Server version 1.2.1 (size=4096)',
      'Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes',
      '  -> RemoteAddress:Port',
      'TCP  198.19.1.0:80                      12       60       48     3600     4000',
      '  -> 198.18.2.10:8080                   12       60       48     3600     4000',
      'TCP  198.19.1.1:80                       3       10        8      600      700',
    ].join('\n');
    expect(sumIpvsConns(stats)).toBe(15);
  });
});
