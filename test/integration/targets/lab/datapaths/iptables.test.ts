import { describe } from 'vitest';
import { exec } from '../../../../../src/util/exec.js';
import { datapathContract } from './mini-lab.js';

for (const backend of ['nft', 'legacy'] as const) {
  describe(`iptables datapath (iptables-${backend})`, () => {
    datapathContract({
      name: 'iptables',
      iptables: backend,
      describeMatches: new RegExp(`^lab: kube-proxy-shaped iptables \\(iptables-${backend} v[\\d.]+\\), 405 rules$`),
      leftovers: async (lab) => {
        const r = await exec([`iptables-${backend}-save`, '-t', 'nat'], { netns: lab.nodeNs });
        return r.stdout.split('\n').filter((l) => l.includes('KUBE-')).join('\n');
      },
    });
  });
}
