import { describe, expect, it } from 'vitest';
import { DiskProbeOptionsSchema, parseBytes } from '../../../src/probes/disk.js';

describe('disk probe options', () => {
  it("defaults to etcd's fio recipe and a real etcd", () => {
    const o = DiskProbeOptionsSchema.parse({ dir: '/var/lib/etcd' });
    expect(o).toMatchObject({ blockSize: 2300, size: 22 * 1024 * 1024, maxDuration: 120, preallocate: true });
    expect(o.etcd).toMatchObject({ enabled: true, clients: 4, valueSize: 256, count: 2000, maxDuration: 60 });
    expect(o.etcd.checkPerf).toBeUndefined();
  });

  it('reads sizes with binary units as fio does, and durations with units', () => {
    expect(parseBytes('22m')).toBe(23_068_672);
    expect(parseBytes('4k')).toBe(4096);
    expect(parseBytes('1GiB')).toBe(1024 ** 3);
    expect(parseBytes('2300')).toBe(2300);
    expect(parseBytes('lots')).toBeUndefined();
    const o = DiskProbeOptionsSchema.parse({ dir: '/x', size: '2m', blockSize: '4k', maxDuration: '30s', etcd: { enabled: false, valueSize: '1k' } });
    expect(o).toMatchObject({ size: 2 * 1024 * 1024, blockSize: 4096, maxDuration: 30, etcd: { enabled: false, valueSize: 1024 } });
  });

  it('rejects what would make a meaningless or endless run, naming the field', () => {
    const bad = DiskProbeOptionsSchema.safeParse({ dir: '/x', size: 10, blockSize: 0, etcd: { clients: 0, checkPerf: 'huge' }, extra: 1 });
    expect(bad.success).toBe(false);
    const paths = bad.error!.issues.map((i) => i.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['size', 'blockSize', 'etcd.clients', 'etcd.checkPerf']));
    expect(DiskProbeOptionsSchema.safeParse({ dir: '/x', size: '22 parsecs' }).success).toBe(false);
  });
});
