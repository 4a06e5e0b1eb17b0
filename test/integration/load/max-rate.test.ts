import { afterEach, describe, expect, it } from 'vitest';
import { findMaxRate } from '../../../src/load/max-rate.js';
import { DEFAULT_LIMITS } from '../../../src/load/self-check.js';
import { spawnOpenLoop } from '../../../src/load/spawn.js';
import { fixedDelayServer, type TestServer } from './servers.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('findMaxRate against a real server', () => {
  it('lands below the capacity that connections ÷ delay allows, and above half of it', async () => {
    // 8 connections × 20 ms per response: at most 400 req/s; past it the generator's queue, and
    // p99, grow without bound. Well below it p99 stays near 20 ms, inside the 100 ms SLO.
    server = await fixedDelayServer(20);
    const port = server.port;
    const r = await findMaxRate(
      (rate) =>
        spawnOpenLoop({ groups: [{ name: 'vip', addresses: [{ host: '127.0.0.1', port }] }], rate, arrival: 'constant', durationS: 1,
          warmupS: 0.2, connection: 'keepalive', connections: 8, timeoutS: 1 }, {}),
      // The answer under test is the server's capacity: generator-side limits are relaxed so a busy
      // test machine cannot stop the search early (the engine's own tests cover those checks).
      { minRate: 50, maxRate: 1600, sloP99Us: 100_000, resolution: 0.1, maxSteps: 9,
        limits: { ...DEFAULT_LIMITS, maxLagP99Us: 50_000, maxCpuWait: 1, maxBusy: 1 } },
    );
    const why = JSON.stringify(r.steps.map((s) => [Math.round(s.rate), s.p99Us, s.pass]));
    expect(r.maxRate, why).toBeGreaterThanOrEqual(200);
    expect(r.maxRate, why).toBeLessThan(400);
    expect(r.steps.length).toBeLessThanOrEqual(9);
  });
});
