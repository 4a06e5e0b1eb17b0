import { closeSync, openSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { DpbenchError, environment, internal } from '../errors.js';
import { decodeHistogram, type Histogram } from '../results/histogram.js';
import { exec, hasCommand } from '../util/exec.js';
import type { FsyncWorkerInput, FsyncWorkerOutput } from './fsync-worker.js';

export interface FsyncProbeOptions {
  /** The file to write; created (or truncated) here, and left for the caller to delete. */
  file: string;
  blockSize: number;
  size: number;
  maxDurationMs: number;
  /**
   * Reserve the file's blocks before timing, as fio does by default (fallocate=native) and as
   * etcd does for each 64 MiB WAL segment. Without it every fdatasync also commits a size change.
   */
  preallocate: boolean;
  signal?: AbortSignal;
}

export interface FsyncProbeResult {
  fdatasync: Histogram;
  write: Histogram;
  writes: number;
  bytes: number;
  elapsedSeconds: number;
  /** Blocks written per second of wall time, write and fdatasync included (fio's write IOPS). */
  iops: number;
  stoppedBy: FsyncWorkerOutput['stoppedBy'];
  preallocated: boolean;
}

/**
 * Runs from src (vitest, tsx) and from dist (tsc output). On Node 20 a worker started with
 * `execArgv: ['--import', 'tsx']` still cannot load a .ts entry (the loader hooks are not applied
 * to the worker's entry module), so from source a small eval'd bootstrap registers tsx's ESM hooks
 * inside the worker and then imports the .ts worker.
 */
function startWorker(input: FsyncWorkerInput): Worker {
  if (!import.meta.url.endsWith('.ts')) {
    return new Worker(new URL('./fsync-worker.js', import.meta.url), { workerData: input });
  }
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./fsync-worker.ts', import.meta.url).href;
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(bootstrap, { eval: true, workerData: input });
}

async function preallocate(file: string, size: number): Promise<boolean> {
  // Node has no fallocate(2) binding; util-linux's fallocate is on every Debian system.
  if (!(await hasCommand('fallocate'))) return false;
  const r = await exec(['fallocate', '-l', String(size), file], { allowFailure: true });
  return r.code === 0;
}

export async function runFsyncProbe(opts: FsyncProbeOptions): Promise<FsyncProbeResult> {
  closeSync(openSync(opts.file, 'w'));
  const preallocated = opts.preallocate ? await preallocate(opts.file, opts.size) : false;
  const stop = new SharedArrayBuffer(4);
  const input: FsyncWorkerInput = {
    file: opts.file,
    blockSize: opts.blockSize,
    size: opts.size,
    maxDurationMs: opts.maxDurationMs,
    stop,
  };
  const worker = startWorker(input);
  const onAbort = () => Atomics.store(new Int32Array(stop), 0, 1);
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const out = await new Promise<FsyncWorkerOutput>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(internal(`the fsync worker exited with code ${code} before reporting`, 'this is a bug; run again with --json and report it')));
    });
    const elapsedSeconds = Number(BigInt(out.elapsedNs)) / 1e9;
    return {
      fdatasync: decodeHistogram(out.fdatasyncHdr),
      write: decodeHistogram(out.writeHdr),
      writes: out.writes,
      bytes: out.bytes,
      elapsedSeconds,
      iops: elapsedSeconds > 0 ? out.writes / elapsedSeconds : 0,
      stoppedBy: out.stoppedBy,
      preallocated,
    };
  } catch (e) {
    throw translateIoError(e, opts.file);
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    await worker.terminate();
  }
}

function translateIoError(e: unknown, file: string): unknown {
  if (e instanceof DpbenchError) return e;
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return environment(`the disk filled up while writing ${file}`, 'free some space or pass a smaller --size');
  }
  if (code === 'EIO') return environment(`I/O error while writing ${file}`, 'the device reported an error; check `dmesg`');
  return e;
}
