import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ProgrammingProbeSchema, programmingMetrics } from '../../../src/probes/programming.js';
import { watch } from '../../../src/probes/programming-worker.js';
import { isDistribution } from '../../../src/results/model.js';

const cfg = { intervalUs: 500, attemptTimeoutMs: 100, watchTimeoutMs: 5000 };

describe('ProgrammingProbeSchema', () => {
  it('defaults to 20 changes probed every 0.5 ms, and refuses intervals over 1 ms', () => {
    expect(ProgrammingProbeSchema.parse({})).toEqual({ changes: 20, interval: 0.0005, timeout: 120 });
    expect(ProgrammingProbeSchema.safeParse({ interval: '2ms' }).success).toBe(false);
  });
});

describe('programmingMetrics', () => {
  it('makes distributions of add and remove latencies', () => {
    const m = programmingMetrics([
      { addUs: 1000, removeUs: 2000, addCommandUs: 900, removeCommandUs: 1900 },
      { addUs: 3000, removeUs: 4000, addCommandUs: 2900, removeCommandUs: 3900 },
    ]);
    const add = m['programming.add']!;
    expect(isDistribution(add) && [add.count, add.max]).toEqual([2, 3000]);
  });
});

// watch() against a real TCP listener on loopback, in its own process so that it accepts at once
// while watch() holds this thread; the "change" is starting or killing that process.
const SERVER = `const s = require('node:net').createServer((c) => c.destroy());
s.listen(Number(process.argv[1]), '127.0.0.1', () => console.log('ready'));`;

function startServer(port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', SERVER, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((res) => child.stdout!.once('data', () => res(child)));
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe('watch (programming-worker)', () => {
  let server: ChildProcess | undefined;
  afterEach(() => server?.kill('SIGKILL'));

  it('reports the send time of the first attempt that saw the listener come up', async () => {
    const port = await freePort();
    let changedAt = 0n;
    let ready = 0n;
    let started: Promise<void> = Promise.resolve();
    const r = await watch({ id: 1, until: 'up', host: '127.0.0.1', port }, cfg, () => {
      changedAt = process.hrtime.bigint();
      started = startServer(port).then((c) => {
        server = c;
        ready = process.hrtime.bigint();
      });
    });
    await started;
    expect(r.error).toBeUndefined();
    const seen = BigInt(r.seenAt!);
    expect(seen).toBeGreaterThanOrEqual(changedAt);
    // Seen no later than the listener's "ready" reached this thread (which can only be later
    // than the moment it started listening), give or take one probe interval.
    expect(ready).toBeGreaterThan(0n);
    expect(Number(seen - ready) / 1e6).toBeLessThan(1);
  });

  it('reports when the listener stops answering, and refuses a VIP already in the wanted state', async () => {
    const port = await freePort();
    server = await startServer(port);
    let changedAt = 0n;
    const r = await watch({ id: 2, until: 'down', host: '127.0.0.1', port }, cfg, () => {
      setTimeout(() => {
        changedAt = process.hrtime.bigint();
        server!.kill('SIGKILL');
      }, 20);
    });
    expect(r.error).toBeUndefined();
    // Killing a listener resets connections still in its accept queue, so an attempt sent a
    // moment before the kill may already fail; a datapath change cannot do that to an
    // established connection. Hence a small allowance before the change.
    const ms = Number(BigInt(r.seenAt!) - changedAt) / 1e6;
    expect(ms).toBeGreaterThan(-1);
    // The kill itself takes a while to close the socket on a busy machine: only an upper bound.
    expect(ms).toBeLessThan(1000);
    const refused = await watch({ id: 3, until: 'down', host: '127.0.0.1', port }, cfg, () => {});
    expect(refused.error).toMatch(/already down/);
  });
});
