import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { datapathContract } from './mini-lab.js';
import { exec } from '../../../../../src/util/exec.js';

// /proc/net/ip_vs exists in every namespace of a kernel with IP_VS; this one has none and no
// loadable modules, so the datapath can only be checked for refusing cleanly.
const hasIpvs = existsSync('/proc/net/ip_vs');

describe('ipvs datapath', () => {
  it.skipIf(hasIpvs)('says why it cannot run on a kernel without IP_VS', async () => {
    const { createDatapath } = await import('../../../../../src/targets/lab/datapaths/registry.js');
    const ns = `dpb-t${process.pid}-ipvs`;
    await exec(['ip', 'netns', 'add', ns]);
    try {
      const dp = createDatapath('ipvs', { id: 't', nodeNs: ns, clientNs: ns, runDir: '/nonexistent', clientCgroup: '/nonexistent', bpffs: '/nonexistent', iptables: 'nft' });
      expect(await dp.unavailable()).toMatch(/^kernel has no IP_VS \(CONFIG_IP_VS not set/);
    } finally {
      await exec(['ip', 'netns', 'del', ns]);
    }
  });

  describe.skipIf(!hasIpvs)('on a kernel with IP_VS (skipped here: this kernel has no CONFIG_IP_VS and no modules)', () => {
    datapathContract({
      name: 'ipvs',
      iptables: 'nft',
      describeMatches: /^lab: kube-proxy-shaped ipvs \(ipvsadm, rr\), 50 virtual servers, 100 real servers$/,
      leftovers: async (lab) => (await exec(['ipvsadm', '-Ln'], { netns: lab.nodeNs })).stdout.split('\n').filter((l) => /^(TCP|UDP)/.test(l)).join('\n'),
    });
  });
});
