import { afterEach, describe, expect, it } from 'vitest';
import { spawnClosedLoop } from '../../../src/load/spawn.js';
import { decodeHistogram } from '../../../src/results/histogram.js';
import { fixedDelayServer, type TestServer } from './servers.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('closed-loop engine (autocannon), known answers', () => {
  it('records µs response times and the throughput Little\'s law predicts', async () => {
    // 8 connections, each waiting 50 ms per response: 160 req/s, every response ≥ 50 ms.
    server = await fixedDelayServer(50);
    const r = await spawnClosedLoop(
      { groups: [{ name: 'vip', addresses: [{ host: '127.0.0.1', port: server.port }] }], durationS: 2, warmupS: 0.5,
        connections: 8, pipelining: 1, connection: 'keepalive', timeoutS: 2 },
      {},
    );
    const g = r.groups[0]!;
    const h = decodeHistogram(g.latency);
    expect(g.errors).toEqual({});
    expect(h.totalCount).toBe(g.ok);
    expect(h.getValueAtPercentile(50)).toBeGreaterThanOrEqual(50_000);
    expect(h.getValueAtPercentile(50)).toBeLessThan(58_000);
    // Sub-millisecond resolution: autocannon's own histogram would hold only whole milliseconds.
    const values = new Set<number>();
    for (const p of [10, 30, 50, 70, 90]) values.add(h.getValueAtPercentile(p) % 1000);
    expect([...values].some((v) => v !== 0)).toBe(true);
    expect(r.achievedRps).toBeGreaterThan(160 * 0.85);
    expect(r.achievedRps).toBeLessThanOrEqual(160 * 1.01);
    expect(r.measuredSeconds).toBeCloseTo(2, 0);
  });
});
