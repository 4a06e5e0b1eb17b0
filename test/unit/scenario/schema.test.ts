import { describe, expect, it } from 'vitest';
import { LoadProfileSchema } from '../../../src/scenario/schema.js';
import { parseScenario } from '../../../src/scenario/load.js';
import { DpbenchError } from '../../../src/errors.js';

const messages = (input: unknown) => {
  const r = LoadProfileSchema.safeParse(input);
  expect(r.success).toBe(false);
  return r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('LoadProfileSchema search (max rate at SLO)', () => {
  it('takes a search instead of a rate, converts the SLO to µs and fills the defaults', () => {
    const l = LoadProfileSchema.parse({ name: 'max', search: { sloP99: '2ms', minRate: 500, maxRate: 8000 } });
    expect(l.rate).toBeUndefined();
    expect(l.search).toEqual({ sloP99: 2000, minRate: 500, maxRate: 8000, resolution: 0.1, maxSteps: 8 });
    expect(LoadProfileSchema.parse({ name: 'max', search: { sloP99: 750, minRate: 1, maxRate: 1, resolution: 0.05, maxSteps: 3 } }).search)
      .toEqual({ sloP99: 750, minRate: 1, maxRate: 1, resolution: 0.05, maxSteps: 3 });
  });

  it('rejects a search on a closed loop, beside a rate, or with minRate above maxRate', () => {
    expect(messages({ name: 'x', mode: 'closed', search: { sloP99: '1ms', minRate: 100, maxRate: 200 } }))
      .toEqual(['search: a max-rate search needs mode: open (a closed loop has no rate to search)']);
    expect(messages({ name: 'x', rate: 100, search: { sloP99: '1ms', minRate: 100, maxRate: 200 } }))
      .toEqual(['rate: a max-rate search chooses its own rates: drop rate and set search.minRate']);
    expect(messages({ name: 'x', search: { sloP99: '1ms', minRate: 300, maxRate: 200 } }))
      .toEqual(['search.minRate: search.minRate 300 is above search.maxRate 200']);
  });

  it('rejects malformed search fields and unknown keys', () => {
    const m = messages({ name: 'x', search: { sloP99: 'fast', minRate: 0, maxRate: 100, maxSteps: 99, step: 2 } });
    expect(m.some((x) => x.startsWith('search.sloP99:'))).toBe(true);
    expect(m.some((x) => x.startsWith('search.minRate:'))).toBe(true);
    expect(m.some((x) => x.startsWith('search.maxSteps:'))).toBe(true);
    expect(m.some((x) => x.startsWith('search:') && /step/.test(x))).toBe(true);
  });

  it('still asks an open loop without a search for its rate', () => {
    expect(messages({ name: 'x' })).toEqual(['rate: an open-loop load needs a rate (requests per second), or a search for the max rate']);
  });

  it('reports a bad search with its file position in a scenario', () => {
    const text = `name: t
datapaths: [ebpf]
services: { counts: [20] }
loads:
  - name: max
    search: { sloP99: 2ms, minRate: 900, maxRate: 100 }
`;
    try {
      parseScenario(text, 'scen.yaml');
      expect.unreachable('expected the scenario to be rejected');
    } catch (e) {
      expect(e).toBeInstanceOf(DpbenchError);
      expect([...(e as DpbenchError).details].join('\n')).toMatch(/scen\.yaml:\d+:\d+.*loads\.0\.search\.minRate.*above search\.maxRate 100/);
    }
  });
});

describe('selfCheck limits', () => {
  const base = 'name: s\ndatapaths: [ebpf]\nservices: { counts: [10] }\nloads: [{ name: a, rate: 10 }]\n';
  it('defaults the schedule-lag bound to 1 ms and takes a duration for it', () => {
    expect(parseScenario(base, 's.yaml').selfCheck).toEqual({ maxLagP99: 1000 });
    expect(parseScenario(`${base}selfCheck: { maxLagP99: 5ms }\n`, 's.yaml').selfCheck).toEqual({ maxLagP99: 5000 });
  });
  it('rejects unknown limits with the line', () => {
    let details: readonly string[] = [];
    try {
      parseScenario(`${base}selfCheck: { maxBusy: 1 }\n`, 's.yaml');
    } catch (e) {
      details = (e as DpbenchError).details;
    }
    expect(details.join('\n')).toMatch(/^s\.yaml:5:\d+ selfCheck/m);
  });
});
