/**
 * dpbench's fdatasync probe against fio's etcd job, on the same directory, in the same run.
 *
 *   npx tsx bench/disk/run.ts --dir /var/tmp [--rounds 3] [--size 22m] [--no-etcd] [--json out.json]
 *
 * The two tools alternate (probe, fio, fio, probe, ...) so that a neighbour's I/O burst or the
 * disk's own drift hits both equally. Percentiles are compared per round and on the merge of all
 * rounds: fio's json+ output carries its latency bins, which are merged the same way as the
 * probe's HDR histograms (percentiles are never averaged).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runDiskProbe, parseBytes, type DiskProbeResult } from '../../src/probes/disk.js';
import { decodeHistogram, newHistogram, type Histogram } from '../../src/results/histogram.js';
import { isDistribution, type Distribution } from '../../src/results/model.js';
import { formatMicros } from '../../src/scenario/units.js';
import { exec } from '../../src/util/exec.js';

interface Side {
  p50: number;
  p99: number;
  p999: number;
  iops: number;
  count: number;
}

interface FioJob {
  sync: { lat_ns: { N: number; percentile: Record<string, number>; bins?: Record<string, number> } };
  write: { iops: number };
}

const { values } = parseArgs({
  options: {
    dir: { type: 'string', default: '/var/tmp' },
    rounds: { type: 'string', default: '3' },
    size: { type: 'string', default: '22m' },
    'no-etcd': { type: 'boolean', default: false },
    json: { type: 'string' },
  },
});
const dir = values.dir!;
const rounds = Number(values.rounds);
const size = parseBytes(values.size!)!;

async function runFio(): Promise<{ side: Side; bins: Record<string, number>; version: string }> {
  const work = mkdtempSync(join(dir, '.dpbench-fio-'));
  try {
    const r = await exec(['fio', '--name=etcd', '--rw=write', '--ioengine=sync', '--fdatasync=1', `--size=${size}`, '--bs=2300',
      `--directory=${work}`, '--output-format=json+'], { timeoutMs: 600_000 });
    const out = JSON.parse(r.stdout) as { 'fio version': string; jobs: FioJob[] };
    const job = out.jobs[0]!;
    const p = job.sync.lat_ns.percentile;
    return {
      side: { p50: p['50.000000']! / 1000, p99: p['99.000000']! / 1000, p999: p['99.900000']! / 1000, iops: job.write.iops, count: job.sync.lat_ns.N },
      bins: job.sync.lat_ns.bins ?? {},
      version: out['fio version'],
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function runProbe(etcd: boolean): Promise<{ side: Side; result: DiskProbeResult }> {
  const result = await runDiskProbe({ dir, size, etcd: { enabled: etcd } });
  const d = result.metrics['disk.fdatasync'] as Distribution;
  const iops = result.metrics['disk.writeIops'];
  return { side: { p50: d.p50, p99: d.p99, p999: d.p999, iops: iops && 'value' in iops ? iops.value : 0, count: d.count }, result };
}

/** fio's bins are (ns value → count); re-recorded in µs they merge like any dpbench histogram. */
function binsToHistogram(allBins: Array<Record<string, number>>): Histogram {
  const h = newHistogram();
  for (const bins of allBins) for (const [ns, n] of Object.entries(bins)) h.recordValueWithCount(Math.max(1, Math.round(Number(ns) / 1000)), n);
  return h;
}

const rows: Array<{ round: number; order: string; probe: Side; fio: Side }> = [];
const probeHdrs: string[] = [];
const fioBins: Array<Record<string, number>> = [];
let fioVersion = '';
let device: DiskProbeResult['device'] | undefined;

for (let i = 1; i <= rounds; i++) {
  const probeFirst = i % 2 === 1;
  let probe: Side | undefined;
  let fio: Side | undefined;
  for (const which of probeFirst ? ['probe', 'fio'] : ['fio', 'probe']) {
    if (which === 'probe') {
      const p = await runProbe(false);
      probe = p.side;
      device = p.result.device;
      probeHdrs.push((p.result.metrics['disk.fdatasync'] as Distribution).hdr);
    } else {
      const f = await runFio();
      fio = f.side;
      fioBins.push(f.bins);
      fioVersion = f.version;
    }
  }
  rows.push({ round: i, order: probeFirst ? 'probe→fio' : 'fio→probe', probe: probe!, fio: fio! });
  process.stderr.write(`round ${i}: probe p99 ${formatMicros(probe!.p99)}, fio p99 ${formatMicros(fio!.p99)}\n`);
}

const mergedProbe = newHistogram();
for (const e of probeHdrs) mergedProbe.add(decodeHistogram(e));
const mergedFio = binsToHistogram(fioBins);
const merged = {
  probe: { p50: mergedProbe.getValueAtPercentile(50), p99: mergedProbe.getValueAtPercentile(99), p999: mergedProbe.getValueAtPercentile(99.9), count: mergedProbe.totalCount },
  fio: { p50: mergedFio.getValueAtPercentile(50), p99: mergedFio.getValueAtPercentile(99), p999: mergedFio.getValueAtPercentile(99.9), count: mergedFio.totalCount },
};
const ratio = merged.probe.p99 / merged.fio.p99;
// A p99 that sits on a cluster of slow flushes jumps when that cluster holds 0.9% or 1.1% of
// the samples; the share of fdatasyncs over etcd's 10 ms bound shows whether the tails differ.
function shareAbove(h: Histogram, us: number): number {
  // The percentile at which values first exceed `us`, found by bisection on getValueAtPercentile.
  if (!h.totalCount || h.maxValue <= us) return 0;
  let lo = 0;
  let hi = 100;
  for (let i = 0; i < 40; i++) {
    const mid = (lo + hi) / 2;
    if (h.getValueAtPercentile(mid) > us) hi = mid;
    else lo = mid;
  }
  return (100 - hi) / 100;
}
const over10ms = (h: Histogram) => shareAbove(h, 10_000);
const share = { probe: over10ms(mergedProbe), fio: over10ms(mergedFio) };

let etcdRun: DiskProbeResult | undefined;
if (!values['no-etcd']) {
  process.stderr.write('etcd: one more probe run with a real etcd on the same directory\n');
  etcdRun = (await runProbe(true)).result;
}

const f = formatMicros;
const r2 = (v: number) => v.toFixed(2);
const lines: string[] = [];
lines.push(`Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, kernel ${release()}; ${device?.blockDevice ?? '?'} (${device?.transport ?? '?'}), ${device?.filesystem} on ${device?.mountPoint}, virtualized: ${device?.hypervisor.virtualized} (${device?.hypervisor.detectVirt ?? 'n/a'}); ${fioVersion}`);
lines.push('');
lines.push('| round | order | probe p50 | probe p99 | probe p99.9 | probe IOPS | fio p50 | fio p99 | fio p99.9 | fio IOPS | p99 ratio |');
lines.push('|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  lines.push(`| ${r.round} | ${r.order} | ${f(r.probe.p50)} | ${f(r.probe.p99)} | ${f(r.probe.p999)} | ${Math.round(r.probe.iops)} | ${f(r.fio.p50)} | ${f(r.fio.p99)} | ${f(r.fio.p999)} | ${Math.round(r.fio.iops)} | ${r2(r.probe.p99 / r.fio.p99)} |`);
}
lines.push(`| all (merged) | | ${f(merged.probe.p50)} | ${f(merged.probe.p99)} | ${f(merged.probe.p999)} | | ${f(merged.fio.p50)} | ${f(merged.fio.p99)} | ${f(merged.fio.p999)} | | **${r2(ratio)}** |`);
lines.push('');
lines.push(`Share of fdatasyncs over 10 ms (merged): probe ${(share.probe * 100).toFixed(2)}%, fio ${(share.fio * 100).toFixed(2)}%.`);
if (etcdRun) {
  const m = (k: string) => etcdRun!.metrics[k];
  const d = (k: string) => {
    const x = m(k);
    return x && isDistribution(x) ? `p50 ${f(x.p50)}, p99 ${f(x.p99)} (n=${x.count})` : 'n/a';
  };
  lines.push('');
  lines.push(`etcd ${etcdRun.etcd?.version} on the same directory, ${etcdRun.etcd?.puts} puts of ${etcdRun.etcd?.valueSize} B from ${etcdRun.etcd?.clients} clients:`);
  lines.push(`- probe fdatasync: ${d('disk.fdatasync')}`);
  lines.push(`- etcd WAL fsync (bucket-interpolated): ${d('etcd.walFsync')}`);
  lines.push(`- etcd backend commit (bucket-interpolated): ${d('etcd.backendCommit')}`);
  lines.push(`- etcd put latency (client): ${d('etcd.putLatency')}`);
}
console.log(lines.join('\n'));
if (values.json) writeFileSync(values.json, JSON.stringify({ dir, size, rows, merged, ratio, shareOver10ms: share, etcd: etcdRun ? { etcd: etcdRun.etcd, metrics: etcdRun.metrics, verdicts: etcdRun.verdicts } : null, device }, null, 2));
