import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { badInput, environment } from '../errors.js';
import { fingerprintDisk, type DeviceFingerprint } from './disk-fingerprint.js';

export interface PreflightOptions {
  dir: string;
  /** Bytes the probe will write, etcd's data included. */
  needBytes: number;
}

export interface Preflight {
  fingerprint: DeviceFingerprint;
  /** A fresh, empty directory inside `dir`; the caller removes it (with everything in it) at the end. */
  workDir: string;
  warnings: string[];
}

/** Room left for everyone else on the filesystem, so the probe never fills a disk to the brim. */
export const FREE_SPACE_MARGIN = 64 * 1024 * 1024;

export const MEMORY_BACKED_WARNING =
  'is on RAM-backed storage (%s): fdatasync has nothing to flush there, so these numbers say nothing about a disk';

const mib = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MiB`;

/**
 * Checks `dir` before anything is written, so that bad input fails in a second with a message
 * that names the fix, and leaves no file behind. The write test is the creation of the probe's
 * own work directory: if that fails, nothing was created.
 */
export async function preflightDisk(opts: PreflightOptions): Promise<Preflight> {
  const { dir } = opts;
  let st;
  try {
    st = statSync(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw badInput(`directory ${dir} does not exist`, `create it on the disk you want to test (mkdir -p ${dir}), or pass another --dir`);
    if (code === 'EACCES') throw badInput(`cannot look into ${dir} (permission denied)`, 'pass a directory you can write to, or run as a user that can');
    throw e;
  }
  if (!st.isDirectory()) throw badInput(`${dir} is not a directory`, 'pass the directory where etcd would keep its data, e.g. /var/lib/etcd');

  const fingerprint = await fingerprintDisk(dir);
  const roMount = fingerprint.mountOptions.split(',').includes('ro');
  if (roMount) {
    throw badInput(`${dir} is on a read-only filesystem (${fingerprint.mountPoint}, ${fingerprint.filesystem})`,
      'pass a directory on a writable filesystem; etcd needs to write there too');
  }

  const need = opts.needBytes + FREE_SPACE_MARGIN;
  if (fingerprint.freeBytes < need) {
    throw environment(`only ${mib(fingerprint.freeBytes)} free on ${fingerprint.mountPoint}; the probe needs ${mib(need)} (${mib(opts.needBytes)} plus a ${mib(FREE_SPACE_MARGIN)} margin)`,
      'free some space, pass a smaller --size, or turn the etcd part off with --no-etcd');
  }

  let workDir: string;
  try {
    workDir = mkdtempSync(join(dir, '.dpbench-disk-'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EROFS') throw badInput(`${dir} is on a read-only filesystem`, 'pass a directory on a writable filesystem');
    if (code === 'EACCES' || code === 'EPERM') {
      throw badInput(`cannot create files in ${dir} (${code === 'EPERM' ? 'operation not permitted; is it immutable (lsattr -d)?' : 'permission denied'})`,
        'pass a directory you can write to, or run as a user that can');
    }
    if (code === 'ENOSPC' || code === 'EDQUOT') throw environment(`no space left on ${fingerprint.mountPoint}`, 'free some space or pass another --dir');
    throw e;
  }

  const warnings: string[] = [];
  if (fingerprint.memoryBacked) {
    warnings.push(`${dir} ${MEMORY_BACKED_WARNING.replace('%s', fingerprint.blockDevice ?? fingerprint.filesystem)}`);
  }
  if (fingerprint.writeCache === 'write through') {
    warnings.push(`${fingerprint.blockDevice} reports a write-through cache: the kernel sends no cache flushes, so fdatasync may return before data reaches stable media (fine for battery-backed caches; optimistic otherwise)`);
  }
  if (fingerprint.filesystem === 'overlay') {
    warnings.push(`${dir} is on overlayfs: the numbers are those of the upper layer's filesystem, which may not be the disk etcd would use`);
  }
  return { fingerprint, workDir, warnings };
}

/** Removes the work directory; safe to call twice. */
export function removeWorkDir(workDir: string): void {
  rmSync(workDir, { recursive: true, force: true });
}
