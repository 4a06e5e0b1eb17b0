import { describe, expect, it } from 'vitest';
import { DpbenchError } from '../../../src/errors.js';
import { parseScenario } from '../../../src/scenario/load.js';

const good = `name: t
datapaths: [iptables, ebpf]
services: { counts: [10, 20] }
loads:
  - { name: a, rate: 100, duration: 500ms }
`;

function problemsOf(text: string): string[] {
  try {
    parseScenario(text, 'scen.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(DpbenchError);
    expect((e as DpbenchError).exitCode).toBe(2);
    return [...(e as DpbenchError).details];
  }
  throw new Error('expected the scenario to be rejected');
}

describe('parseScenario', () => {
  it('fills defaults and converts units', () => {
    const s = parseScenario(good, 'scen.yaml');
    expect(s.target).toBe('lab');
    expect(s.services.position).toBe('random');
    expect(s.services.endpoints).toBe(2);
    expect(s.loads[0]!.duration).toBe(0.5);
    expect(s.loads[0]!.warmup).toBe(1);
    expect(s.repeat).toBe(1);
  });

  it('reports every problem at once, each with file:line:col, path and hint', () => {
    const p = problemsOf(`name: Bad_Name
datapaths: [iptables, ipvsx]
services:
  counts: [100, -1]
  endpoint: 3
loads:
  - name: a
    duration: 10x
repeat: 0
`);
    expect(p).toHaveLength(7);
    expect(p[0]).toMatch(/^scen\.yaml:1:7 name: /);
    expect(p[1]).toMatch(/^scen\.yaml:2:23 datapaths\.1: .*"ebpf"/);
    expect(p[2]).toMatch(/^scen\.yaml:4:17 services\.counts\.1: .*>=1/);
    expect(p[3]).toMatch(/^scen\.yaml:5:13 services\.endpoint: Unrecognized key.*\(remove it/);
    expect(p.some((l) => /^scen\.yaml:7:5 loads\.0\.rate: an open-loop load needs a rate/.test(l))).toBe(true);
    expect(p.some((l) => /^scen\.yaml:9:9 repeat:/.test(l))).toBe(true);
  });

  it('points a missing required key at its parent', () => {
    const p = problemsOf('name: t\nservices:\n  counts: [1]\nloads: [{name: a, rate: 1}]\n');
    expect(p).toEqual([expect.stringMatching(/^scen\.yaml:1:1 datapaths: .*\(this field is required\)/)]);
  });

  it('reports YAML syntax errors with their line', () => {
    const p = problemsOf('name: t\ndatapaths: [iptables\nservices: {}\n');
    expect(p.length).toBeGreaterThan(0);
    expect(p[0]).toMatch(/^scen\.yaml:\d+:\d+ \(root\): .*\(fix the YAML syntax\)$/);
  });

  it('rejects duplicate load names', () => {
    const p = problemsOf(`${good}  - { name: a, rate: 5 }\n`);
    expect(p).toEqual([expect.stringMatching(/loads\.1\.name: load name "a" is used twice/)]);
  });
});
