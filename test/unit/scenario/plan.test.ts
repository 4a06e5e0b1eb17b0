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

  it('estimates the load time', () => {
    expect(plannedSeconds(trials)).toBe(8 * 3 + 8 * 3.5);
  });
});
