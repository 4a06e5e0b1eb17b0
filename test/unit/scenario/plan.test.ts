import { describe, expect, it } from 'vitest';
import { parseScenario } from '../../../src/scenario/load.js';
import { planTrials, plannedSeconds } from '../../../src/scenario/plan.js';

const scenario = parseScenario(
  `name: p
datapaths: [iptables, nftables]
services: { counts: [100, 1000], endpoints: 3 }
loads:
  - { name: ka, rate: 10, duration: 2s, warmup: 1s }
  - { name: nc, rate: 10, duration: 3s, warmup: 0.5s, connection: new }
repeat: 2
`,
  'p.yaml',
);

describe('planTrials', () => {
  const trials = planTrials(scenario);

  it('expands datapath × services × load × repeat', () => {
    expect(trials).toHaveLength(2 * 2 * 2 * 2);
    expect(new Set(trials.map((t) => t.id)).size).toBe(trials.length);
    expect(trials.every((t) => t.endpoints === 3)).toBe(true);
  });

  it('lets datapaths take turns within a repetition (ABAB, not AABB)', () => {
    const first100 = trials.filter((t) => t.services === 100).map((t) => `${t.datapath}/${t.repeat}`);
    expect(first100).toEqual([
      'iptables/1', 'iptables/1', 'nftables/1', 'nftables/1',
      'iptables/2', 'iptables/2', 'nftables/2', 'nftables/2',
    ]);
    expect(trials[0]!.services).toBe(100);
    expect(trials.at(-1)!.services).toBe(1000);
  });

  it('lets the service counts take turns within a repetition too, so drift does not read as scaling', () => {
    const order = [...new Set(trials.map((t) => `r${t.repeat}:${t.services}`))];
    expect(order).toEqual(['r1:100', 'r1:1000', 'r2:100', 'r2:1000']);
  });

  it('estimates the load time', () => {
    expect(plannedSeconds(trials)).toBe(8 * 3 + 8 * 3.5);
  });

  it('counts every step a max-rate search may take', () => {
    const s = parseScenario(
      `name: p
datapaths: [ebpf]
services: { counts: [100] }
loads:
  - { name: mr, duration: 2s, warmup: 1s, search: { sloP99: 2ms, minRate: 100, maxRate: 800, maxSteps: 5 } }
`,
      'p.yaml',
    );
    expect(plannedSeconds(planTrials(s))).toBe(5 * 3);
  });
});

describe('planTrials with probes', () => {
  const probes = parseScenario(
    `name: p
datapaths: [iptables, ebpf]
services: { counts: [100, 1000] }
loads: []
probes: { connect: { samples: 100 }, programming: {} }
repeat: 2
`,
    'p.yaml',
  );

  it('adds one probes trial per datapath × services × repeat, with a probes load profile', () => {
    const trials = planTrials(probes);
    expect(trials.map((t) => t.id)).toEqual([
      'iptables-100-probes-r1', 'ebpf-100-probes-r1', 'iptables-1000-probes-r1', 'ebpf-1000-probes-r1',
      'iptables-100-probes-r2', 'ebpf-100-probes-r2', 'iptables-1000-probes-r2', 'ebpf-1000-probes-r2',
    ]);
    expect(trials[0]!.load).toMatchObject({ name: 'probes', mode: 'open', connection: 'new', connections: 1, rate: 1000 });
  });

  it('puts the probes trial after the loads of the same datapath, so no extra switch happens', () => {
    const both = parseScenario(
      `name: p
datapaths: [iptables]
services: { counts: [100] }
loads: [{ name: nc, rate: 10, connection: new }]
probes: { dns: {} }
`,
      'p.yaml',
    );
    expect(planTrials(both).map((t) => t.id)).toEqual(['iptables-100-nc-r1', 'iptables-100-probes-r1']);
  });

  it('needs a load or a probe, and keeps the name "probes" for probe trials', () => {
    expect(() => parseScenario('name: p\ndatapaths: [iptables]\nservices: { counts: [1] }\nloads: []\n', 'p.yaml')).toThrow();
    expect(() =>
      parseScenario('name: p\ndatapaths: [iptables]\nservices: { counts: [1] }\nloads: [{ name: probes, rate: 1 }]\n', 'p.yaml'),
    ).toThrow();
  });
});
