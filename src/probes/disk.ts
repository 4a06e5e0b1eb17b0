import { existsSync, rmSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { z } from 'zod';
import { environment } from '../errors.js';
import { startEtcd } from '../etcd/server.js';
import { toBucketDistribution } from '../etcd/metrics.js';
import type { Metric, TrialStatus } from '../results/model.js';
import { toDistribution } from '../results/histogram.js';
import { durationPattern, parseSeconds } from '../scenario/units.js';
import { hasCommand } from '../util/exec.js';
import { preflightDisk, removeWorkDir } from './disk-checks.js';
import type { DeviceFingerprint } from './disk-fingerprint.js';
import { judgeDisk, type Verdict } from './disk-verdict.js';
import { CHECK_PERF_PROFILES, runCheckPerf, runEtcdLoad, type CheckPerfResult } from './etcd-load.js';
import { runFsyncProbe } from './fsync.js';

const MiB = 1024 * 1024;
const SIZE = /^(\d+(?:\.\d+)?)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?$/i;
const sizeFactor: Record<string, number> = { b: 1, k: 1024, kb: 1024, kib: 1024, m: MiB, mb: MiB, mib: MiB, g: 1024 * MiB, gb: 1024 * MiB, gib: 1024 * MiB };

/** "22m" → 23068672. k, m and g are binary, as in fio, so `--size 22m` means what fio's does. */
export function parseBytes(v: string | number): number | undefined {
  if (typeof v === 'number') return v;
  const m = SIZE.exec(v.trim());
  if (!m) return undefined;
  return Math.round(Number(m[1]) * sizeFactor[(m[2] ?? 'b').toLowerCase()]!);
}

const bytes = (min: number, max: number) =>
  z
    .union([z.number().int(), z.string().regex(SIZE, 'expected a size such as 2300, "4k", "22m" or "1g" (binary units, as in fio)')])
    .transform((v) => parseBytes(v)!)
    .pipe(z.number().int().min(min).max(max))
    .describe('bytes as a number, or a string with a binary unit: 2300, 4k, 22m, 1g');

const duration = z
  .union([z.number().positive(), z.string().regex(new RegExp(durationPattern), 'expected a duration such as "30s" or "2m"')])
  .transform((v) => parseSeconds(v)!)
  .describe('seconds as a number, or a string with a unit: 500ms, 30s, 2m');

export const EtcdProbeOptionsSchema = z
  .object({
    enabled: z.boolean().default(true).describe('start a real etcd on the same directory and read its disk metrics'),
    binary: z.string().optional().describe('etcd binary (default: etcd on PATH, from Debian etcd-server)'),
    clients: z.number().int().min(1).max(256).default(4).describe('concurrent clients, one gRPC connection each'),
    valueSize: bytes(1, 1.5 * MiB).default(256).describe('bytes per put'),
    count: z.number().int().min(1).max(1_000_000).default(2000).describe('total puts'),
    maxDuration: duration.default(60).describe('stop the put load after this long even if count is not reached'),
    checkPerf: z.enum(CHECK_PERF_PROFILES).optional().describe('also run `etcdctl check perf --load=PROFILE` (takes about a minute)'),
  })
  .strict();

export const DiskProbeOptionsSchema = z
  .object({
    dir: z.string().min(1).describe('a directory on the disk under test, e.g. where /var/lib/etcd would live'),
    blockSize: bytes(1, 16 * MiB).default(2300).describe("bytes per write; 2300 is etcd's fio recipe (--bs=2300)"),
    size: bytes(4096, 64 * 1024 * MiB).default(22 * MiB).describe("total bytes written; 22 MiB is etcd's fio recipe (--size=22m)"),
    maxDuration: duration.default(120).describe('stop the fdatasync loop after this long even if size is not reached'),
    preallocate: z.boolean().default(true).describe('fallocate the file first, as fio does by default and etcd does for WAL segments'),
    etcd: EtcdProbeOptionsSchema.prefault({}),
  })
  .strict();

export type DiskProbeOptions = z.output<typeof DiskProbeOptionsSchema>;
export type DiskProbeOptionsInput = z.input<typeof DiskProbeOptionsSchema>;

export interface DiskProbeResult {
  status: TrialStatus;
  reason?: string;
  /** disk.fdatasync, disk.write, disk.writeIops; etcd.walFsync, etcd.backendCommit, etcd.putLatency, etcd.putRate when etcd ran. */
  metrics: Record<string, Metric>;
  device: DeviceFingerprint;
  verdicts: Verdict[];
  warnings: string[];
  fsync: { blockSize: number; writes: number; bytes: number; elapsedSeconds: number; preallocated: boolean; stoppedBy: string };
  etcd?: { version: string; clients: number; valueSize: number; puts: number; errors: number; firstError?: string; elapsedSeconds: number; checkPerf?: CheckPerfResult };
}

/** What etcd itself needs on disk: one preallocated 64 MiB WAL segment, the bbolt file, headroom. */
function etcdNeedBytes(o: DiskProbeOptions['etcd']): number {
  return o.enabled ? 64 * MiB + 16 * MiB + 2 * o.count * (o.valueSize + 128) : 0;
}

async function resolvable(binary: string): Promise<boolean> {
  return isAbsolute(binary) || binary.includes('/') ? existsSync(binary) : hasCommand(binary);
}

const round1 = (v: number) => Math.round(v * 10) / 10;

/**
 * The etcd disk probe: etcd's fio recipe replayed off the main thread, then (optionally) a real
 * etcd on the same directory under a bounded put load, judged against etcd's published limits.
 * Everything it writes lives in one work directory inside `dir`, removed before returning.
 */
export async function runDiskProbe(
  input: DiskProbeOptionsInput | DiskProbeOptions,
  onProgress: (line: string) => void = () => undefined,
  signal?: AbortSignal,
): Promise<DiskProbeResult> {
  const o = DiskProbeOptionsSchema.parse(input);
  const etcdBinary = o.etcd.binary ?? 'etcd';
  // Missing tools are found before a minute of writing is spent, not after.
  if (o.etcd.enabled && !(await resolvable(etcdBinary))) {
    throw environment(`etcd binary "${etcdBinary}" was not found`, 'install it with `apt-get install etcd-server`, or pass --no-etcd to measure the disk only');
  }
  if (o.etcd.enabled && o.etcd.checkPerf && !(await hasCommand('etcdctl'))) {
    throw environment('etcdctl was not found', 'install it with `apt-get install etcd-client`, or drop --check-perf');
  }

  const pre = await preflightDisk({ dir: o.dir, needBytes: o.size + etcdNeedBytes(o.etcd) });
  const warnings = [...pre.warnings];
  const metrics: Record<string, Metric> = {};
  let etcdInfo: DiskProbeResult['etcd'];
  let fsyncInfo: DiskProbeResult['fsync'];
  try {
    onProgress(`fdatasync: ${o.size} bytes in ${o.blockSize}-byte writes on ${pre.fingerprint.dir} (${pre.fingerprint.blockDevice ?? pre.fingerprint.filesystem})`);
    const file = join(pre.workDir, 'fsync.dat');
    const fs = await runFsyncProbe({ file, blockSize: o.blockSize, size: o.size, maxDurationMs: o.maxDuration * 1000, preallocate: o.preallocate, ...(signal ? { signal } : {}) });
    rmSync(file, { force: true }); // give the space back before etcd starts
    metrics['disk.fdatasync'] = toDistribution(fs.fdatasync);
    metrics['disk.write'] = toDistribution(fs.write);
    metrics['disk.writeIops'] = { unit: 'iops', value: round1(fs.iops) };
    fsyncInfo = { blockSize: o.blockSize, writes: fs.writes, bytes: fs.bytes, elapsedSeconds: Math.round(fs.elapsedSeconds * 1000) / 1000, preallocated: fs.preallocated, stoppedBy: fs.stoppedBy };
    if (fs.stoppedBy === 'duration') {
      warnings.push(`the fdatasync loop hit maxDuration (${o.maxDuration}s) after ${fs.bytes} of ${o.size} bytes; the percentiles rest on ${fs.writes} samples`);
    }
    if (o.preallocate && !fs.preallocated) warnings.push('could not preallocate the test file (no fallocate); each fdatasync also committed a file size change');

    if (o.etcd.enabled && !signal?.aborted) {
      onProgress(`etcd: starting ${etcdBinary} with its data on ${pre.workDir}`);
      const server = await startEtcd({ dataDir: join(pre.workDir, 'etcd'), binary: etcdBinary });
      try {
        onProgress(`etcd ${server.version}: ${o.etcd.count} puts of ${o.etcd.valueSize} bytes from ${o.etcd.clients} clients`);
        const load = await runEtcdLoad({
          endpoint: server.endpoint, metricsUrl: server.metricsUrl, clients: o.etcd.clients, valueSize: o.etcd.valueSize,
          count: o.etcd.count, maxDurationMs: o.etcd.maxDuration * 1000, ...(signal ? { signal } : {}),
        });
        metrics['etcd.walFsync'] = toBucketDistribution(load.walFsync);
        metrics['etcd.backendCommit'] = toBucketDistribution(load.backendCommit);
        metrics['etcd.putLatency'] = toDistribution(load.put);
        metrics['etcd.putRate'] = { unit: 'puts/s', value: round1(load.elapsedSeconds > 0 ? load.puts / load.elapsedSeconds : 0) };
        etcdInfo = { version: server.version, clients: o.etcd.clients, valueSize: o.etcd.valueSize, puts: load.puts, errors: load.errors, elapsedSeconds: Math.round(load.elapsedSeconds * 1000) / 1000 };
        if (load.firstError !== undefined) {
          etcdInfo.firstError = load.firstError;
          warnings.push(`${load.errors} etcd puts failed; first error: ${load.firstError}`);
        }
        if (o.etcd.checkPerf && !signal?.aborted) {
          onProgress(`etcd: etcdctl check perf --load=${o.etcd.checkPerf} (about a minute)`);
          etcdInfo.checkPerf = await runCheckPerf(server.endpoint, o.etcd.checkPerf);
        }
      } finally {
        await server.stop();
      }
    }
  } finally {
    removeWorkDir(pre.workDir);
  }

  const verdicts = judgeDisk(metrics);
  const result: DiskProbeResult = { status: 'ok', metrics, device: pre.fingerprint, verdicts, warnings, fsync: fsyncInfo };
  if (etcdInfo) result.etcd = etcdInfo;
  if (pre.fingerprint.memoryBacked) {
    result.status = 'invalid';
    result.reason = `${o.dir} is RAM-backed (${pre.fingerprint.filesystem}); fdatasync there measures nothing about a disk`;
  } else if (signal?.aborted) {
    result.status = 'failed';
    result.reason = 'interrupted before the probe finished';
  } else if (etcdInfo && etcdInfo.puts === 0) {
    result.status = 'failed';
    result.reason = `no etcd put succeeded${etcdInfo.firstError ? `: ${etcdInfo.firstError}` : ''}`;
  }
  return result;
}
