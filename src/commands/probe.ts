import { resolve } from 'node:path';
import type { Argv } from 'yargs';
import { badInput, ExitCode } from '../errors.js';
import { isDistribution, type Metric } from '../results/model.js';
import { formatMicros } from '../scenario/units.js';
import { DiskProbeOptionsSchema, runDiskProbe, type DiskProbeOptionsInput, type DiskProbeResult } from '../probes/disk.js';
import type { Verdict } from '../probes/disk-verdict.js';
import { CHECK_PERF_PROFILES } from '../probes/etcd-load.js';
import type { CommandContext, CommandOutput, CommandSpec } from './command.js';

export interface ProbeArgs {
  kind: 'disk';
  dir: string;
  blockSize?: string;
  size?: string;
  duration?: string;
  preallocate?: boolean;
  etcd?: boolean;
  etcdBinary?: string;
  etcdClients?: number;
  etcdValueSize?: string;
  etcdCount?: number;
  checkPerf?: (typeof CHECK_PERF_PROFILES)[number];
}

/** CLI flags → the same options object a scenario's `probes.disk` holds. */
export function diskOptionsFromArgs(a: ProbeArgs): DiskProbeOptionsInput {
  const etcd: NonNullable<DiskProbeOptionsInput['etcd']> = {};
  if (a.etcd !== undefined) etcd.enabled = a.etcd;
  if (a.etcdBinary !== undefined) etcd.binary = a.etcdBinary;
  if (a.etcdClients !== undefined) etcd.clients = a.etcdClients;
  if (a.etcdValueSize !== undefined) etcd.valueSize = numeric(a.etcdValueSize);
  if (a.etcdCount !== undefined) etcd.count = a.etcdCount;
  if (a.checkPerf !== undefined) etcd.checkPerf = a.checkPerf;
  const o: DiskProbeOptionsInput = { dir: a.dir, etcd };
  if (a.blockSize !== undefined) o.blockSize = numeric(a.blockSize);
  if (a.size !== undefined) o.size = numeric(a.size);
  if (a.duration !== undefined) o.maxDuration = numeric(a.duration);
  if (a.preallocate !== undefined) o.preallocate = a.preallocate;
  return o;
}

/** yargs hands "2300" over as a string; the schema wants a bare number to mean bytes or seconds. */
const numeric = (v: string | number): string | number => (typeof v === 'string' && /^\d+(\.\d+)?$/.test(v.trim()) ? Number(v) : v);

const FLAG_OF: Record<string, string> = {
  blockSize: '--block-size', size: '--size', maxDuration: '--duration', dir: '--dir', preallocate: '--preallocate',
  'etcd.clients': '--etcd-clients', 'etcd.valueSize': '--etcd-value-size', 'etcd.count': '--etcd-count', 'etcd.checkPerf': '--check-perf',
};

export function exitCodeFor(r: DiskProbeResult): CommandOutput['exitCode'] {
  if (r.status === 'invalid') return ExitCode.badInput;
  if (r.status === 'failed' || r.status === 'skipped') return ExitCode.environment;
  return r.verdicts.some((v) => v.level === 'required' && v.pass === false) ? ExitCode.sloFailed : ExitCode.ok;
}

const fmtValue = (v: Verdict['value'], unit: string) => (v === null ? '–' : unit === 'us' ? formatMicros(v) : `${Math.round(v)} ${unit.toUpperCase()}`);

function fmtThreshold(v: Verdict): string {
  const t = v.threshold;
  if (t.max !== undefined) return `< ${t.unit === 'us' ? formatMicros(t.max) : t.max}`;
  return `>= ${t.min}`;
}

function dist(name: string, m: Metric | undefined): string {
  if (!m || !isDistribution(m)) return `${name}: not measured`;
  const f = formatMicros;
  return `${name.padEnd(22)} n=${String(m.count).padEnd(6)} p50 ${f(m.p50).padEnd(8)} p99 ${f(m.p99).padEnd(8)} p99.9 ${f(m.p999).padEnd(8)} max ${f(m.max)}`;
}

const yesNo = (b: boolean | null) => (b === null ? 'unknown' : b ? 'yes' : 'no');

/** The terminal view: device, numbers side by side, then one line per verdict with its source. */
export function renderDiskText(r: DiskProbeResult): string {
  const d = r.device;
  const lines: string[] = [];
  lines.push(`Disk probe on ${d.dir}  [${r.status}${r.reason ? `: ${r.reason}` : ''}]`);
  lines.push(`  device      ${d.blockDevice ?? '(none)'}${d.partition ? ` (partition ${d.partition})` : ''}, ${d.transport ?? 'no block device'}, rotational: ${yesNo(d.rotational)} (as the device reports it)${d.model ? `, model ${d.model}` : ''}`);
  lines.push(`  filesystem  ${d.filesystem} on ${d.mountPoint} (${d.source}), options ${d.mountOptions}`);
  lines.push(`  cache       ${d.writeCache ?? 'unknown'}; scheduler ${d.scheduler ?? 'unknown'}`);
  const h = d.hypervisor;
  lines.push(`  virtualized ${yesNo(h.virtualized)} (cpu hypervisor flag: ${yesNo(h.cpuFlag)}; systemd-detect-virt: ${h.detectVirt ?? 'n/a'}; DMI: ${h.dmiVendor ?? 'n/a'}${h.dmiProduct ? ` ${h.dmiProduct}` : ''})`);
  lines.push('');
  const f = r.fsync;
  lines.push(`fdatasync probe: ${f.writes} writes of ${f.blockSize} B, ${f.bytes} B in ${f.elapsedSeconds.toFixed(2)} s${f.preallocated ? ', file preallocated' : ''}`);
  lines.push(`  ${dist('disk.fdatasync', r.metrics['disk.fdatasync'])}`);
  const iops = r.metrics['disk.writeIops'];
  if (iops && 'value' in iops) lines.push(`  ${'disk.writeIops'.padEnd(22)} ${Math.round(iops.value)}`);
  if (r.etcd) {
    const e = r.etcd;
    lines.push(`etcd ${e.version}: ${e.puts} puts of ${e.valueSize} B from ${e.clients} clients in ${e.elapsedSeconds.toFixed(2)} s${e.errors ? `, ${e.errors} errors` : ''}`);
    lines.push(`  ${dist('etcd.walFsync', r.metrics['etcd.walFsync'])}   (bucket-interpolated)`);
    lines.push(`  ${dist('etcd.backendCommit', r.metrics['etcd.backendCommit'])}   (bucket-interpolated)`);
    lines.push(`  ${dist('etcd.putLatency', r.metrics['etcd.putLatency'])}   (client-side, includes gRPC)`);
    if (e.checkPerf) {
      lines.push(`  etcdctl check perf --load=${e.checkPerf.profile}: ${e.checkPerf.pass ? 'PASS' : 'FAIL'}`);
      for (const l of e.checkPerf.lines) lines.push(`    ${l}`);
    }
  } else {
    lines.push('etcd: not run (--no-etcd)');
  }
  lines.push('');
  lines.push('Verdicts (etcd guidance):');
  for (const v of r.verdicts) {
    const mark = v.pass === null ? '–' : v.pass ? '✓' : '✗';
    const note = v.certainty === 'interpolated' ? ' (threshold inside a bucket: interpolated)' : v.pass === null ? ' (not measured)' : '';
    lines.push(`  ${mark} ${v.label.padEnd(42)} ${fmtValue(v.value, v.threshold.unit).padStart(9)}  need ${fmtThreshold(v)}${v.level === 'heavy' ? ' [heavy clusters]' : ''}${note}`);
    lines.push(`      ${v.source.title}: "${v.source.says}" ${v.source.url}`);
  }
  if (r.warnings.length) {
    lines.push('');
    lines.push('Warnings:');
    for (const w of r.warnings) lines.push(`  ! ${w}`);
  }
  return lines.join('\n');
}

export const probeCommand: CommandSpec<ProbeArgs> = {
  command: 'probe <kind>',
  describe: "Measure the host: `probe disk` checks a disk against etcd's fdatasync guidance",
  examples: [
    ['dpbench probe disk --dir /var/lib/etcd', "etcd's fio recipe (2300-byte writes + fdatasync, 22 MiB) plus a real etcd on the same disk"],
    ['dpbench probe disk --dir /mnt/nvme --no-etcd --size 4m', 'a quick fdatasync-only check'],
    ['dpbench probe disk --dir /var/lib/etcd --etcd-clients 16 --etcd-value-size 1k --check-perf m', 'heavier etcd load, plus etcdctl check perf'],
  ],
  builder: (y: Argv) =>
    y
      .positional('kind', { choices: ['disk'] as const, describe: 'what to probe', demandOption: true })
      .option('dir', { type: 'string', demandOption: true, describe: 'directory on the disk under test' })
      .option('block-size', { type: 'string', describe: 'bytes per write (default 2300)' })
      .option('size', { type: 'string', describe: 'total bytes, binary units as in fio: 22m (default)' })
      .option('duration', { type: 'string', describe: 'upper bound on the fdatasync loop, e.g. 60s (default 120s)' })
      .option('preallocate', { type: 'boolean', describe: 'fallocate the test file first, as fio does (default true)' })
      .option('etcd', { type: 'boolean', describe: 'also run a real etcd on the directory (default true; --no-etcd to skip)' })
      .option('etcd-binary', { type: 'string', describe: 'etcd binary (default: etcd on PATH)' })
      .option('etcd-clients', { type: 'number', describe: 'concurrent etcd clients (default 4)' })
      .option('etcd-value-size', { type: 'string', describe: 'bytes per put (default 256)' })
      .option('etcd-count', { type: 'number', describe: 'total puts (default 2000)' })
      .option('check-perf', { type: 'string', choices: CHECK_PERF_PROFILES, describe: 'also run etcdctl check perf with this load profile (~1 min)' }) as unknown as Argv,
  run: async (args: ProbeArgs, ctx: CommandContext): Promise<CommandOutput> => {
    if (args.kind !== 'disk') throw badInput(`unknown probe "${String(args.kind)}"`, 'valid probes: disk');
    const parsed = DiskProbeOptionsSchema.safeParse(diskOptionsFromArgs({ ...args, dir: resolve(ctx.cwd, args.dir) }));
    if (!parsed.success) {
      const details = parsed.error.issues.map((i) => `${FLAG_OF[i.path.join('.')] ?? i.path.join('.')}: ${i.message}`);
      throw badInput('invalid probe options', 'see `dpbench probe --help` for the accepted values', details);
    }
    const result = await runDiskProbe(parsed.data, ctx.progress, ctx.signal);
    return { exitCode: exitCodeFor(result), json: result, text: renderDiskText(result) };
  },
};
