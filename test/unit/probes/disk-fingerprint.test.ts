import { describe, expect, it } from 'vitest';
import { fingerprintDisk, mountFor, parseMountinfo } from '../../../src/probes/disk-fingerprint.js';

const MOUNTINFO = [
  '26 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard',
  '24 23 0:22 / /dev/shm rw,relatime - tmpfs tmpfs rw,size=24683748k',
  '90 26 259:2 / /mnt/fast\\040disk rw,noatime - xfs /dev/nvme0n1p2 rw,attr2',
  '91 90 0:50 / /mnt/fast\\040disk/ram ro,relatime - tmpfs tmpfs ro,size=1024k',
].join('\n');

describe('disk fingerprint', () => {
  it('parses mountinfo, escapes included', () => {
    const m = parseMountinfo(MOUNTINFO);
    expect(m).toHaveLength(4);
    expect(m[2]).toMatchObject({ majorMinor: '259:2', mountPoint: '/mnt/fast disk', fstype: 'xfs', source: '/dev/nvme0n1p2', options: 'rw,noatime' });
  });

  it('picks the deepest mount that holds the path, not a sibling with the same prefix', () => {
    const m = parseMountinfo(MOUNTINFO);
    expect(mountFor(m, '/mnt/fast disk/etcd')?.fstype).toBe('xfs');
    expect(mountFor(m, '/mnt/fast disk/ram/x')?.fstype).toBe('tmpfs');
    expect(mountFor(m, '/mnt/fast disk/ramp')?.fstype).toBe('xfs');
    expect(mountFor(m, '/var/lib/etcd')?.fstype).toBe('ext4');
  });

  it("describes this machine's /var/tmp from the real /proc and /sys", async () => {
    const f = await fingerprintDisk('/var/tmp');
    expect(f.filesystem).not.toBe('unknown');
    expect(f.freeBytes).toBeGreaterThan(0);
    expect(f.totalBytes).toBeGreaterThanOrEqual(f.freeBytes);
    expect(typeof f.hypervisor.cpuFlag).toBe('boolean');
    if (f.blockDevice) {
      expect(f.transport).not.toBeNull();
      expect(typeof f.rotational).toBe('boolean');
    }
  });

  it('marks /dev/shm as RAM-backed', async () => {
    const f = await fingerprintDisk('/dev/shm');
    expect(f.filesystem).toBe('tmpfs');
    expect(f.memoryBacked).toBe(true);
    expect(f.blockDevice).toBeNull();
  });
});
