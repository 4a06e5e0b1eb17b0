import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { environment } from '../../../errors.js';
import { exec } from '../../../util/exec.js';

/** lb.c sits next to this file in src/, and is shipped in src/ for the built package (dist/). */
export function lbSourcePath(): string {
  const candidates = [new URL('./lb.c', import.meta.url), new URL('../../../../src/targets/lab/bpf/lb.c', import.meta.url)];
  for (const u of candidates) {
    const p = fileURLToPath(u);
    if (existsSync(p)) return p;
  }
  throw environment('lb.c (the eBPF datapath source) is missing', 'reinstall dpbench; src/targets/lab/bpf/lb.c must ship with it');
}

const multiarch: Record<string, string> = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu' };

/**
 * Compiles lb.c into `cacheDir/lb-<source hash>.o` unless that object exists already, and returns
 * its path. Keyed by the source hash so an edited lb.c can never run as a stale object.
 */
export async function buildLb(cacheDir: string): Promise<string> {
  const src = lbSourcePath();
  const hash = createHash('sha256').update(await readFile(src)).digest('hex').slice(0, 16);
  const out = join(cacheDir, `lb-${hash}.o`);
  if (existsSync(out)) return out;
  await mkdir(cacheDir, { recursive: true });
  // With -target bpf clang does not add Debian's multiarch include dir, where <asm/types.h> lives.
  const arch = multiarch[process.arch];
  const tmp = `${out}.${process.pid}.tmp`;
  await exec(['clang', '-O2', '-g', '-target', 'bpf', '-Wall', ...(arch ? [`-I/usr/include/${arch}`] : []), '-c', src, '-o', tmp]);
  await rename(tmp, out);
  return out;
}
