import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newHistogram, type Histogram } from '../../src/results/histogram.js';
import { exec } from '../../src/util/exec.js';

/** The reference tools, driven the way their own docs show, pinned to the generator's CPU. */

export const VEGETA_BIN_DIR = '/var/cache/dpbench/bin';
export const VEGETA = join(VEGETA_BIN_DIR, 'vegeta');

const pin = (cpu: number | undefined) => (cpu === undefined ? [] : ['taskset', '-c', String(cpu)]);

/** Installs vegeta with `go install` outside the repo when it is missing. */
export async function ensureVegeta(): Promise<string> {
  if (existsSync(VEGETA)) return VEGETA;
  await exec(['env', `GOBIN=${VEGETA_BIN_DIR}`, 'nice', '-n', '19', 'go', 'install', 'github.com/tsenart/vegeta/v12@latest'], { timeoutMs: 900_000 });
  return VEGETA;
}

export interface VegetaRun {
  /** Latency from vegeta's own send time (it has no intended time to correct from), µs. */
  latency: Histogram;
  ok: number;
  errors: number;
  achievedRps: number;
  maxRssBytes: number;
}

/**
 * vegeta at a constant rate for warm-up + duration; the warm-up second is dropped from its
 * results by timestamp, so both tools are judged on the same kind of window.
 */
export async function runVegeta(
  url: string, rate: number, durationS: number, warmupS: number, cpu: number | undefined, maxConnections?: number,
): Promise<VegetaRun> {
  const dir = mkdtempSync(join(tmpdir(), 'dpbench-bench-vegeta-'));
  try {
    const targets = join(dir, 'targets');
    const bin = join(dir, 'results.bin');
    writeFileSync(targets, `GET ${url}\n`);
    const r = await exec(['/usr/bin/time', '-f', 'maxrss_kb=%M', ...pin(cpu), VEGETA, 'attack', `-targets=${targets}`, `-rate=${rate}/s`,
      `-duration=${durationS + warmupS}s`, '-timeout=2s', `-output=${bin}`,
      ...(maxConnections ? [`-max-connections=${maxConnections}`] : [])], { timeoutMs: (durationS + warmupS + 30) * 1000 });
    const rss = Number(/maxrss_kb=(\d+)/.exec(r.stderr)?.[1] ?? 0) * 1024;
    const csv = (await exec([VEGETA, 'encode', '--to', 'csv', bin], { timeoutMs: 120_000 })).stdout;
    const rows = csv.split('\n').filter(Boolean).map((l) => l.split(','));
    const t0 = rows.reduce((m, c) => Math.min(m, Number(c[0]) / 1e6), Number.POSITIVE_INFINITY);
    const from = t0 + warmupS * 1000;
    const to = from + durationS * 1000;
    const latency = newHistogram();
    let ok = 0;
    let errors = 0;
    for (const c of rows) {
      const t = Number(c[0]) / 1e6;
      if (t < from || t >= to) continue;
      if (c[1] === '200') {
        ok++;
        latency.recordValue(Math.max(1, Math.round(Number(c[2]) / 1000)));
      } else errors++;
    }
    return { latency, ok, errors, achievedRps: ok / durationS, maxRssBytes: rss };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface WrkRun {
  rps: number;
  p50Us: number;
  p99Us: number;
}

const wrkTime = (v: string, unit: string) => Number(v) * ({ us: 1, ms: 1000, s: 1e6 } as Record<string, number>)[unit]!;

/** wrk, closed loop: the throughput ceiling the engine's closed loop is compared with. */
export async function runWrk(url: string, connections: number, durationS: number, cpu: number | undefined): Promise<WrkRun> {
  const r = await exec([...pin(cpu), 'wrk', '-t1', `-c${connections}`, `-d${durationS}s`, '--latency', url], { timeoutMs: (durationS + 30) * 1000 });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(r.stdout)?.[1]);
  const pct = (p: string) => {
    const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s)`, 'm').exec(r.stdout);
    return m ? wrkTime(m[1]!, m[2]!) : Number.NaN;
  };
  return { rps, p50Us: pct('50'), p99Us: pct('99') };
}

export async function toolVersions(): Promise<Record<string, string>> {
  const v = async (argv: string[]) => {
    const r = await exec(argv, { allowFailure: true });
    return `${r.stdout}${r.stderr}`.split('\n').find(Boolean)?.trim() ?? '?';
  };
  return {
    node: process.version,
    wrk: (await v(['wrk', '-v'])).split(' Copyright')[0]!,
    // `go install` builds carry no version string; the module version is in the build info.
    vegeta: /github.com\/tsenart\/vegeta\/v12\s+(v\S+)/.exec((await exec(['go', 'version', '-m', VEGETA], { allowFailure: true })).stdout)?.[1] ?? '?',
    nginx: await v(['nginx', '-v']),
    cpu: readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1] ?? '?',
  };
}
