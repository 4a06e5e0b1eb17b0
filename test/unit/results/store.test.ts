import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RunSchema, type TrialResult } from '../../../src/results/model.js';
import { ResultStore, newRunId } from '../../../src/results/store.js';

const trial = (id: string): TrialResult => ({
  id,
  datapath: 'iptables',
  services: 10,
  endpoints: 2,
  load: { name: 'a', mode: 'open', rate: 10, arrival: 'constant', duration: 1, warmup: 0, connections: 1, connection: 'new', pipelining: 1, timeout: 1 },
  repeat: 1,
  status: 'ok',
  startedAt: new Date().toISOString(),
  endedAt: new Date().toISOString(),
  metrics: { 'http.achievedRps': { unit: 'req/s', value: 10 } },
});

describe('ResultStore', () => {
  let dir = '';
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('writes run.json after every trial, valid against the schema, with no temp files left', async () => {
    dir = await mkdtemp(join(tmpdir(), 'dpb-store-'));
    const s = await ResultStore.create(dir, { runId: 'r1', scenario: { name: 'x' }, fingerprint: { kernel: 'k' } });
    const read = async () => RunSchema.parse(JSON.parse(await readFile(s.file, 'utf8')));
    expect((await read()).trials).toHaveLength(0);
    await s.append(trial('a'));
    expect((await read()).trials.map((t) => t.id)).toEqual(['a']);
    await s.append(trial('b'));
    const run = await s.finish();
    expect(run.endedAt).toBeDefined();
    expect((await read()).trials.map((t) => t.id)).toEqual(['a', 'b']);
    expect(await readdir(join(dir, 'r1'))).toEqual(['run.json']);
  });

  it('makes sortable run ids', () => {
    expect(newRunId(new Date(Date.UTC(2026, 11, 7, 18, 4, 5)))).toMatch(/^20261207-180405-[0-9a-f]{4}$/);
  });
});
