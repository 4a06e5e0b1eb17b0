import yargs from 'yargs';
import { describe, expect, it } from 'vitest';
import { diskOptionsFromArgs, exitCodeFor, probeCommand, renderDiskText, type ProbeArgs } from '../../../src/commands/probe.js';
import { DiskProbeOptionsSchema, type DiskProbeResult } from '../../../src/probes/disk.js';
import { judgeDisk } from '../../../src/probes/disk-verdict.js';
import { newHistogram, toDistribution } from '../../../src/results/histogram.js';

function parseArgv(argv: string[]): ProbeArgs {
  const y = yargs(argv).command(probeCommand.command, probeCommand.describe, probeCommand.builder).strict().exitProcess(false).fail((msg) => {
    throw new Error(msg);
  });
  return y.parseSync() as unknown as ProbeArgs;
}

function result(fdatasyncUs: number, iops: number): DiskProbeResult {
  const h = newHistogram();
  for (let i = 0; i < 100; i++) h.recordValue(fdatasyncUs);
  const metrics = { 'disk.fdatasync': toDistribution(h), 'disk.writeIops': { unit: 'iops', value: iops } };
  return {
    status: 'ok', metrics, verdicts: judgeDisk(metrics), warnings: [],
    fsync: { blockSize: 2300, writes: 100, bytes: 230000, elapsedSeconds: 1, preallocated: true, stoppedBy: 'size' },
    device: {
      dir: '/var/lib/etcd', mountPoint: '/', filesystem: 'ext4', mountOptions: 'rw,relatime', source: '/dev/nvme0n1p1', blockDevice: 'nvme0n1',
      partition: 'nvme0n1p1', transport: 'nvme', rotational: false, model: 'Samsung SSD 980', vendor: null, scheduler: 'none', writeCache: 'write back',
      memoryBacked: false, freeBytes: 1e10, totalBytes: 2e10,
      hypervisor: { virtualized: false, cpuFlag: false, dmiVendor: 'Dell Inc.', dmiProduct: 'PowerEdge', detectVirt: 'none' },
    },
  };
}

describe('probe command', () => {
  it('turns real yargs flags into probe options', () => {
    const args = parseArgv(['probe', 'disk', '--dir', '/var/lib/etcd', '--size', '4m', '--block-size', '4096', '--no-etcd', '--etcd-clients', '8', '--check-perf', 'm']);
    const o = DiskProbeOptionsSchema.parse(diskOptionsFromArgs(args));
    expect(o).toMatchObject({ dir: '/var/lib/etcd', size: 4 * 1024 * 1024, blockSize: 4096, etcd: { enabled: false, clients: 8, checkPerf: 'm' } });
    expect(() => parseArgv(['probe', 'disk'])).toThrow(/dir/);
    expect(() => parseArgv(['probe', 'cpu', '--dir', '/x'])).toThrow(/Invalid values|choices/i);
  });

  it('reports bad flag values as bad input naming the flag', async () => {
    const err = await probeCommand.run({ kind: 'disk', dir: '/x', size: 'huge' }, { progress: () => undefined, signal: new AbortController().signal, cwd: '/' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'BAD_INPUT', details: [expect.stringMatching(/^--size: /)] });
  });

  it('exits 0 when every required verdict passes, 1 when one fails, 2 when invalid', () => {
    expect(exitCodeFor(result(800, 1200))).toBe(0);
    expect(exitCodeFor(result(800, 300))).toBe(0); // only the heavy-cluster 500 IOPS line fails
    expect(exitCodeFor(result(15_000, 60))).toBe(1);
    expect(exitCodeFor({ ...result(10, 90_000), status: 'invalid' })).toBe(2);
  });

  it('prints each verdict with its mark, threshold and source', () => {
    const text = renderDiskText(result(15_000, 60));
    expect(text).toMatch(/✗ fdatasync p99 < 10 ms\s+15\.0ms\s+need < 10\.0ms/);
    expect(text).toMatch(/✓ sequential IOPS >= 50\s+60 IOPS\s+need >= 50/);
    expect(text).toMatch(/– etcd WAL fsync p99 < 10 ms.*not measured/);
    expect(text).toContain('https://etcd.io/docs/v3.5/faq/');
    expect(text).toMatch(/device\s+nvme0n1 \(partition nvme0n1p1\), nvme, rotational: no/);
  });
});
