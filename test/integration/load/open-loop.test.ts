import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnOpenLoop } from '../../../src/load/spawn.js';
import type { OpenLoopConfig, OpenLoopResult } from '../../../src/load/types.js';
import { decodeHistogram } from '../../../src/results/histogram.js';
import { blackHoleServer, fixedDelayServer, stallingServer, type TestServer } from './servers.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const run = (port: number, over: Partial<OpenLoopConfig>): Promise<OpenLoopResult> =>
  spawnOpenLoop(
    {
      groups: [{ name: 'vip', addresses: [{ host: '127.0.0.1', port }] }],
      rate: 200, arrival: 'constant', durationS: 2, warmupS: 0.3, connection: 'keepalive', connections: 4, timeoutS: 2,
      ...over,
    },
    {},
  );
const ms = (enc: string, p: number) => decodeHistogram(enc).getValueAtPercentile(p) / 1000;
/** Percentiles in ms, for failure messages: a failed known answer should show the whole shape. */
const shape = (enc: string) => [50, 65, 75, 80, 85, 90, 95, 99, 99.5, 99.9].map((p) => `p${p}=${ms(enc, p)}`).join(' ');

describe('open-loop engine, known answers', () => {
  it('reports a fixed server delay as that delay', async () => {
    // 16 connections carry 320 req/s at 50 ms each: twice the rate, so nothing queues in the generator.
    server = await fixedDelayServer(50);
    const r = await run(server.port, { rate: 160, connections: 16 });
    const g = r.groups[0]!;
    expect(g.errors).toEqual({});
    expect(g.ok).toBeGreaterThan(310);
    // Node timers fire at or after their time, never before; a loaded machine adds a few ms.
    for (const h of [g.latency, g.serviceTime]) {
      expect(ms(h, 50)).toBeGreaterThanOrEqual(50);
      expect(ms(h, 50)).toBeLessThan(56);
    }
    expect(r.achievedRps).toBeGreaterThan(160 * 0.97);
  });

  it('shows a periodic stall in the corrected latency, in the predicted proportion, and not in service time', async () => {
    // 300 ms stall every 1000 ms at 200 req/s: 30% of requests arrive in a stall and wait for its
    // end, evenly spread over (0, 300] ms, so P(latency > x) = (300 - x) / 1000:
    // p80 ≈ 100, p90 ≈ 200, p95 ≈ 250 ms. Draining the generator's queue after a stall can only
    // add to that, and little: 8 connections carry far more than 200 req/s even at a 3 ms RTT.
    // Service time counts from the actual send: only the 8 requests on the wire when a stall
    // begins (8 of 200 per period, 4%) carry it; the rest wait in the generator.
    server = await stallingServer(300, 1000);
    const r = await run(server.port, { rate: 200, durationS: 3, warmupS: 0.5, connections: 8 });
    const g = r.groups[0]!;
    const why = `latency ${shape(g.latency)} | service ${shape(g.serviceTime)} | lag ${shape(r.scheduleLag)}`;
    expect(g.errors).toEqual({});
    // The 70% arriving outside a stall see the server's own few ms, plus (just after a stall) the
    // drain of the generator's queue, some 20 ms on a loaded 2-core machine.
    expect(ms(g.latency, 65), why).toBeLessThan(40);
    for (const [p, want] of [[80, 100], [90, 200], [95, 250]] as const) {
      expect(ms(g.latency, p), why).toBeGreaterThan(want - 15);
      // Upper slack: the queue drain after each stall, ~2 × the server's RTT × 60 queued / 8
      // connections; a loaded machine's 3 ms RTT makes that ~45 ms.
      expect(ms(g.latency, p), why).toBeLessThan(want + 50);
    }
    expect(ms(g.serviceTime, 90), why).toBeLessThan(20);
    expect(ms(g.serviceTime, 99), why).toBeGreaterThan(200);
  });

  it('counts a timeout as an error and records its latency at the timeout', async () => {
    server = await blackHoleServer();
    const r = await run(server.port, { rate: 50, durationS: 1, warmupS: 0, timeoutS: 0.3 });
    const g = r.groups[0]!;
    expect(g.ok).toBe(0);
    expect(g.errors.timeout).toBeGreaterThanOrEqual(48);
    expect(ms(g.latency, 50)).toBeCloseTo(300, -1);
  });

  it('opens a connection per request and leaves TIME_WAIT on the server side', async () => {
    server = await fixedDelayServer(0);
    const port = server.port;
    const r = await run(port, { connection: 'new', rate: 300, durationS: 1 });
    expect(r.groups[0]!.errors).toEqual({});
    expect(r.groups[0]!.ok).toBeGreaterThan(290);
    const tw = (filter: string) =>
      execFileSync('ss', ['-Htan', 'state', 'time-wait', filter], { encoding: 'utf8' }).split('\n').filter(Boolean).length;
    expect(tw(`( sport = :${port} )`)).toBeGreaterThan(290);
    expect(tw(`( dport = :${port} )`)).toBe(0);
  });

  it('times the connection set-up apart from the request: a slow server is not in connect', async () => {
    // A 30 ms server: the handshake is the kernel's (accept happens later), so connect stays at
    // loopback speed while the whole request takes the server's 30 ms.
    server = await fixedDelayServer(30);
    const r = await run(server.port, { connection: 'new', rate: 100, durationS: 1, workers: 2 });
    const g = r.groups[0]!;
    expect(g.errors).toEqual({});
    expect(decodeHistogram(g.connect!).totalCount).toBe(g.ok);
    expect(ms(g.latency, 50)).toBeGreaterThanOrEqual(30);
    expect(ms(g.connect!, 50)).toBeLessThan(10);
    const keepAlive = await run(server.port, { rate: 50, durationS: 0.5 });
    expect(keepAlive.groups[0]!.connect).toBeUndefined();
  });

  it('splits the rate over workers and merges their histograms', async () => {
    server = await fixedDelayServer(0);
    const r = await run(server.port, { rate: 400, durationS: 1.5, workers: 2 });
    const g = r.groups[0]!;
    expect(r.workers).toBe(2);
    expect(r.targetRps).toBe(400);
    expect(r.scheduled).toBeGreaterThanOrEqual(590);
    expect(r.scheduled).toBeLessThanOrEqual(610);
    expect(decodeHistogram(g.latency).totalCount).toBe(g.ok);
    expect(r.achievedRps).toBeGreaterThan(400 * 0.97);
  });
});
