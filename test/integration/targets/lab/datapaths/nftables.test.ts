import { describe } from 'vitest';
import { exec } from '../../../../../src/util/exec.js';
import { datapathContract } from './mini-lab.js';

describe('nftables datapath', () => {
  datapathContract({
    name: 'nftables',
    iptables: 'nft',
    describeMatches: /^lab: kube-proxy-shaped nftables \(nftables v[\d.]+\), 72 rules, 50 service-ips elements$/,
    leftovers: async (lab) => (await exec(['nft', 'list', 'ruleset'], { netns: lab.nodeNs })).stdout.trim(),
  });
});
