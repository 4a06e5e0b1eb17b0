import { describe, expect, it } from 'vitest';
import { DpbenchError } from '../../../src/errors.js';
import { parseScenario } from '../../../src/scenario/load.js';

const scenario = (datapaths: string, lab: string) => `name: t
datapaths: [${datapaths}]
services: { counts: [10] }
${lab}
loads:
  - { name: a, rate: 100 }
`;

describe('lab.kubeProxy', () => {
  it('defaults to the model, with or without a lab section', () => {
    expect(parseScenario(scenario('iptables', ''), 's.yaml').lab.kubeProxy).toBe('model');
    expect(parseScenario(scenario('iptables', 'lab: { pods: 2 }'), 's.yaml').lab.kubeProxy).toBe('model');
  });

  it('accepts real next to datapaths that keep their own implementation', () => {
    const s = parseScenario(scenario('iptables, nftables, ebpf', 'lab: { kubeProxy: real }'), 's.yaml');
    expect(s.lab.kubeProxy).toBe('real');
  });

  it('rejects real when no datapath is iptables or nftables, pointing at the line', () => {
    let err: unknown;
    try {
      parseScenario(scenario('ebpf, ipvs', 'lab:\n  kubeProxy: real'), 's.yaml');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DpbenchError);
    expect((err as DpbenchError).details.join('\n')).toMatch(/^s\.yaml:5:\d+ lab\.kubeProxy: kubeProxy: real applies to the iptables and nftables datapaths/m);
  });

  it('rejects anything but model or real', () => {
    expect(() => parseScenario(scenario('iptables', 'lab: { kubeProxy: fake }'), 's.yaml')).toThrow(DpbenchError);
  });
});
