import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { probeCommand } from '../../../src/commands/probe.js';
import { DpbenchError } from '../../../src/errors.js';
import { isDistribution } from '../../../src/results/model.js';
import { runDiskProbe } from '../../../src/probes/disk.js';
import { exec } from '../../../src/util/exec.js';

// /var/tmp is disk-backed on Debian; /tmp may be a tmpfs.
const base = mkdtempSync('/var/tmp/dpbench-disk-test-');
const mounts: string[] = [];
afterAll(async () => {
  for (const m of mounts.reverse()) await exec(['umount', m], { allowFailure: true });
  await exec(['chattr', '-R', '-i', base], { allowFailure: true });
  rmSync(base, { recursive: true, force: true });
});

async function mount(argv: string[], target: string): Promise<string> {
  mkdirSync(target, { recursive: true });
  await exec(['mount', ...argv, target]);
  mounts.push(target);
  return target;
}
async function unmount(target: string): Promise<void> {
  await exec(['umount', target]);
  mounts.splice(mounts.indexOf(target), 1);
}

const ctx = { progress: () => undefined, signal: new AbortController().signal, cwd: '/' };
const small = { size: 2 * 1024 * 1024, etcd: { enabled: false } } as const;

async function rejection(p: Promise<unknown>): Promise<DpbenchError> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(DpbenchError);
  return e as DpbenchError;
}

describe('runDiskProbe on the real disk', () => {
  it('measures fdatasync and a real etcd side by side, judges them, and leaves nothing behind', async () => {
    const dir = join(base, 'ok');
    mkdirSync(dir);
    const progress: string[] = [];
    const r = await runDiskProbe({ dir, size: 2 * 1024 * 1024, etcd: { clients: 2, count: 200, valueSize: 512 } }, (l) => progress.push(l));
    expect(r.status).toBe('ok');
    const fd = r.metrics['disk.fdatasync']!;
    expect(isDistribution(fd) && fd.count).toBe(Math.ceil((2 * 1024 * 1024) / 2300));
    expect(isDistribution(fd) && fd.hdr.length).toBeGreaterThan(10);
    expect(r.metrics['disk.writeIops']).toMatchObject({ unit: 'iops' });
    for (const name of ['etcd.walFsync', 'etcd.backendCommit']) {
      const m = r.metrics[name]!;
      expect(isDistribution(m) && m.count).toBeGreaterThan(0);
      expect(m).toMatchObject({ hdr: '', note: expect.stringMatching(/bucket-interpolated/) });
    }
    expect(r.metrics['etcd.putLatency']).toMatchObject({ count: 200 });
    expect(r.etcd).toMatchObject({ puts: 200, errors: 0, clients: 2, valueSize: 512 });
    expect(r.verdicts).toHaveLength(5);
    expect(r.verdicts.every((v) => v.pass !== null)).toBe(true);
    expect(r.device.filesystem).not.toBe('tmpfs');
    expect(progress.join('\n')).toMatch(/etcd 3\.\d+\.\d+: 200 puts/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses a missing directory with exit code 2', async () => {
    const e = await rejection(runDiskProbe({ dir: join(base, 'nope'), ...small }));
    expect(e.exitCode).toBe(2);
    expect(e.message).toMatch(/does not exist/);
    expect(existsSync(join(base, 'nope'))).toBe(false);
  });

  it('refuses a file where a directory was expected', async () => {
    const file = join(base, 'a-file');
    writeFileSync(file, 'x');
    const e = await rejection(runDiskProbe({ dir: file, ...small }));
    expect(e.exitCode).toBe(2);
    expect(e.message).toMatch(/not a directory/);
  });

  it('refuses a read-only filesystem (a read-only bind mount of the real disk)', async () => {
    const src = join(base, 'ro-src');
    mkdirSync(src);
    const ro = join(base, 'ro');
    await mount(['--bind', src], ro);
    await exec(['mount', '-o', 'remount,bind,ro', ro]);
    const e = await rejection(runDiskProbe({ dir: ro, ...small }));
    expect(e.exitCode).toBe(2);
    expect(e.message).toMatch(/read-only/);
    expect(readdirSync(src)).toEqual([]);
    await unmount(ro);
  });

  it('refuses a directory it may not write to (immutable, which binds root too)', async () => {
    const dir = join(base, 'immutable');
    mkdirSync(dir);
    await exec(['chattr', '+i', dir]);
    try {
      const e = await rejection(runDiskProbe({ dir, ...small }));
      expect(e.exitCode).toBe(2);
      expect(e.message).toMatch(/cannot create files/);
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      await exec(['chattr', '-i', dir]);
    }
  });

  it('refuses a directory it may not write to (permission bits, as an unprivileged user)', async () => {
    const dir = join(base, 'no-perm');
    mkdirSync(dir);
    chmodSync(dir, 0o755); // owned by root: others may enter, not write
    chmodSync(base, 0o755);
    // Root ignores permission bits, so act as nobody for the call. Only the effective uid
    // changes (the real uid stays 0), so seteuid(0) afterwards restores root.
    process.setegid!('nogroup');
    process.seteuid!('nobody');
    let e: DpbenchError;
    try {
      e = await rejection(runDiskProbe({ dir, ...small }));
    } finally {
      process.seteuid!(0);
      process.setegid!(0);
    }
    expect(e.exitCode).toBe(2);
    expect(e.message).toMatch(/permission denied/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses a filesystem with too little free space with exit code 3', async () => {
    const img = join(base, 'small.img');
    await exec(['truncate', '-s', '16M', img]);
    await exec(['mkfs.ext4', '-q', img]);
    const mnt = await mount(['-o', 'loop', img], join(base, 'small'));
    const e = await rejection(runDiskProbe({ dir: mnt, size: 22 * 1024 * 1024, etcd: { enabled: false } }));
    expect(e.exitCode).toBe(3);
    expect(e.message).toMatch(/only .* MiB free/);
    expect(readdirSync(mnt)).toEqual(['lost+found']);
    await unmount(mnt);
  });

  it('warns that fsync on tmpfs measures nothing, marks the run invalid and exits 2', async () => {
    const mnt = await mount(['-t', 'tmpfs', '-o', 'size=128m', 'dpbench-test'], join(base, 'tmpfs'));
    const out = await probeCommand.run({ kind: 'disk', dir: mnt, size: '2m', etcd: false }, ctx);
    const r = out.json as Awaited<ReturnType<typeof runDiskProbe>>;
    expect(r.status).toBe('invalid');
    expect(r.device).toMatchObject({ filesystem: 'tmpfs', memoryBacked: true, blockDevice: null });
    expect(r.warnings.join('\n')).toMatch(/fdatasync has nothing to flush/);
    expect(out.exitCode).toBe(2);
    expect(out.text).toMatch(/Warnings:\n\s+! .*RAM-backed/);
    expect(readdirSync(mnt)).toEqual([]);
    await unmount(mnt);
  });
});
