import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli.js';
import { fixedDelayServer, type TestServer } from '../load/servers.js';

async function cli(args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), cwd: process.cwd(), signal: new AbortController().signal });
  return { code, stdout, stderr };
}

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('dpbench load', () => {
  it('drives an open loop and prints the run.json metrics with --json', async () => {
    server = await fixedDelayServer(0);
    const r = await cli(['load', `http://127.0.0.1:${server.port}/x`, '--rate', '300', '--duration', '1s', '--warmup', '200ms', '--json']);
    const out = JSON.parse(r.stdout);
    expect(out.mode).toBe('open');
    expect(r.code).toBe(out.status === 'ok' ? 0 : 3);
    for (const k of ['http.latency', 'http.serviceTime', 'http.scheduleLag']) expect(out.metrics[k].count).toBeGreaterThan(280);
    expect(out.metrics['http.achievedRps'].value).toBeGreaterThan(290);
    expect(out.metrics['http.errors'].value).toBe(0);
  });

  it('runs a closed loop with --closed', async () => {
    server = await fixedDelayServer(0);
    const r = await cli(['load', `http://localhost:${server.port}/`, '--closed', '--connections', '2', '--duration', '1', '--warmup', '0.2', '--json']);
    const out = JSON.parse(r.stdout);
    expect(out.mode).toBe('closed');
    expect(out.metrics['http.latency'].count).toBeGreaterThan(100);
    expect(out.metrics['http.achievedRps'].value).toBeGreaterThan(100);
  });

  it('searches for the max rate and reports http.maxRateAtSlo', async () => {
    server = await fixedDelayServer(0);
    const r = await cli(['load', `http://127.0.0.1:${server.port}/`, '--find-max-rate', '--rate', '50', '--max-rate', '100', '--slo', '50ms',
      '--duration', '0.5', '--warmup', '0.1', '--json']);
    const out = JSON.parse(r.stdout);
    expect(out.mode).toBe('max-rate');
    expect(out.steps.length).toBeGreaterThanOrEqual(1);
    expect(out.steps.length).toBeLessThanOrEqual(2);
    expect(out.metrics['http.maxRateAtSlo'].unit).toBe('req/s');
    expect([0, 50, 100]).toContain(out.metrics['http.maxRateAtSlo'].value);
  });

  it('refuses a closed loop with a new connection per request, which autocannon cannot do cleanly', async () => {
    const r = await cli(['load', 'http://127.0.0.1:9/', '--closed', '--new-connection']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/closed-loop load keeps connections alive/);
  });

  it('refuses a host outside loopback and the lab with exit code 2', async () => {
    const r = await cli(['load', 'http://192.0.2.1/', '--rate', '10']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/refusing to send load to 192\.0\.2\.1/);
  });
});
