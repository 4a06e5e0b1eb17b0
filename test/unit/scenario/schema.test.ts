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
