import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runFsyncProbe } from '../../../src/probes/fsync.js';

// /var/tmp, not /tmp: /tmp is a tmpfs on many systems and fdatasync there measures nothing.
const base = mkdtempSync('/var/tmp/dpbench-fsync-test-');
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('runFsyncProbe (real disk, worker thread)', () => {
  it('writes every block, times one fdatasync per write, and counts IOPS over wall time', async () => {
    const file = join(base, 'a.dat');
    const size = 1024 * 1024;
    const r = await runFsyncProbe({ file, blockSize: 2300, size, maxDurationMs: 60_000, preallocate: true });
    const expectedWrites = Math.ceil(size / 2300);
    expect(r.stoppedBy).toBe('size');
    expect(r.writes).toBe(expectedWrites);
    expect(r.bytes).toBe(size);
    expect(r.fdatasync.totalCount).toBe(expectedWrites);
    expect(r.write.totalCount).toBe(expectedWrites);
    expect(statSync(file).size).toBe(size);
    expect(r.preallocated).toBe(true);
    // IOPS is writes over the loop's wall time, so it can never beat 1 / mean fdatasync time.
    expect(r.iops).toBeCloseTo(r.writes / r.elapsedSeconds, 6);
    expect(r.iops).toBeLessThanOrEqual(1e6 / r.fdatasync.mean + 1);
    // A real fdatasync on a block device takes more than a microsecond.
    expect(r.fdatasync.getValueAtPercentile(50)).toBeGreaterThan(1);
  });

  it('stops at maxDuration', async () => {
    const t0 = Date.now();
    const r = await runFsyncProbe({ file: join(base, 'b.dat'), blockSize: 2300, size: 1024 ** 3, maxDurationMs: 300, preallocate: false });
    expect(r.stoppedBy).toBe('duration');
    expect(r.bytes).toBeLessThan(1024 ** 3);
    expect(Date.now() - t0).toBeLessThan(10_000);
  });

  it('stops promptly when aborted', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 200);
    const r = await runFsyncProbe({ file: join(base, 'c.dat'), blockSize: 2300, size: 1024 ** 3, maxDurationMs: 60_000, preallocate: false, signal: ac.signal });
    expect(r.stoppedBy).toBe('abort');
    expect(r.elapsedSeconds).toBeLessThan(5);
  });
});
