/**
 * The write + fdatasync loop, run in a worker thread. Every call here is synchronous, so nothing
 * on the main thread (timers, the etcd client, GC of other work) sits between a write and the
 * clock reading. The loop mirrors fio's etcd job: sequential write(2) of one block, then
 * fdatasync(2), and only the fdatasync is timed (fio's "sync" latency).
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fdatasyncSync, openSync, writeSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { encodeHistogram, newHistogram } from '../results/histogram.js';

export interface FsyncWorkerInput {
  file: string;
  blockSize: number;
  size: number;
  maxDurationMs: number;
  /** Int32Array over a SharedArrayBuffer; the main thread sets [0] to 1 to stop early. */
  stop: SharedArrayBuffer;
}

export interface FsyncWorkerOutput {
  /** fdatasync latencies, µs, compressed HDR. */
  fdatasyncHdr: string;
  /** write(2) latencies, µs, compressed HDR. */
  writeHdr: string;
  writes: number;
  bytes: number;
  /** Wall time of the whole loop, ns, as a decimal string (bigint does not survive every transport). */
  elapsedNs: string;
  stoppedBy: 'size' | 'duration' | 'abort';
}

function run(input: FsyncWorkerInput): FsyncWorkerOutput {
  const stop = new Int32Array(input.stop);
  // Random bytes, as fio writes and as a WAL looks: a constant pattern would flatter storage that
  // compresses or deduplicates (ZFS, VDO, many SANs).
  const block = randomBytes(input.blockSize);
  const fdatasyncHist = newHistogram();
  const writeHist = newHistogram();
  // r+ keeps a preallocated file's extents, as etcd keeps its preallocated WAL segment.
  const fd = openSync(input.file, 'r+');
  const deadline = process.hrtime.bigint() + BigInt(Math.round(input.maxDurationMs * 1e6));
  let bytes = 0;
  let writes = 0;
  let stoppedBy: FsyncWorkerOutput['stoppedBy'] = 'size';
  const start = process.hrtime.bigint();
  try {
    while (bytes < input.size) {
      const len = Math.min(input.blockSize, input.size - bytes);
      const t0 = process.hrtime.bigint();
      writeSync(fd, block, 0, len, bytes);
      const t1 = process.hrtime.bigint();
      fdatasyncSync(fd);
      const t2 = process.hrtime.bigint();
      // Rounded to the µs of every dpbench histogram; sub-µs digits are below fdatasync's noise.
      writeHist.recordValue(Math.max(1, Math.round(Number(t1 - t0) / 1000)));
      fdatasyncHist.recordValue(Math.max(1, Math.round(Number(t2 - t1) / 1000)));
      bytes += len;
      writes++;
      if (Atomics.load(stop, 0) !== 0) {
        stoppedBy = 'abort';
        break;
      }
      if (t2 >= deadline) {
        stoppedBy = 'duration';
        break;
      }
    }
  } finally {
    closeSync(fd);
  }
  const elapsedNs = process.hrtime.bigint() - start;
  return {
    fdatasyncHdr: encodeHistogram(fdatasyncHist),
    writeHdr: encodeHistogram(writeHist),
    writes,
    bytes,
    elapsedNs: elapsedNs.toString(),
    stoppedBy,
  };
}

if (parentPort) parentPort.postMessage(run(workerData as FsyncWorkerInput));
