import { isDistribution, type Distribution, type Run, type TrialResult } from '../results/model.js';
import { mergeHistograms, toDistribution } from '../results/histogram.js';
import { formatMicros } from '../scenario/units.js';
import { diskMarkdown } from './disk.js';
import { scalingMarkdown } from './scaling.js';

/** One row of the summary: all repetitions of datapath × services × load, histograms merged. */
export interface SummaryRow {
  datapath: string;
  services: number;
  load: string;
  connection: string;
  ok: number;
  total: number;
  vip?: Distribution;
  direct?: Distribution;
  /** p50 of each ok repetition, to show the spread instead of one number. */
  repP50s: number[];
  achievedRps?: number;
  implementation?: string;
}

const key = (t: TrialResult) => `${t.datapath}\u0000${t.services}\u0000${t.load.name}`;

function merged(trials: readonly TrialResult[], metric: string): Distribution | undefined {
  const hs = trials.map((t) => t.metrics[metric]).filter((m): m is Distribution => !!m && isDistribution(m));
  return hs.length ? toDistribution(mergeHistograms(hs.map((h) => h.hdr))) : undefined;
}

export function summarize(run: Run): SummaryRow[] {
  const groups = new Map<string, TrialResult[]>();
  for (const t of run.trials) groups.set(key(t), [...(groups.get(key(t)) ?? []), t]);
  const rows: SummaryRow[] = [];
  for (const ts of groups.values()) {
    const ok = ts.filter((t) => t.status === 'ok');
    const first = ts[0]!;
    const rps = ok.map((t) => t.metrics['http.achievedRps']).filter((m) => m && !isDistribution(m)) as { value: number }[];
    rows.push({
      datapath: first.datapath,
      services: first.services,
      load: first.load.name,
      connection: first.load.connection,
      ok: ok.length,
      total: ts.length,
      // Percentiles of the merged histogram of the valid repetitions only.
      vip: merged(ok, 'http.latency'),
      direct: merged(ok, 'http.latency.direct'),
      repP50s: ok.map((t) => t.metrics['http.latency']).filter((m) => m && isDistribution(m)).map((m) => (m as Distribution).p50),
      achievedRps: rps.length ? rps.reduce((a, b) => a + b.value, 0) / rps.length : undefined,
      implementation: first.implementation,
    });
  }
  return rows;
}

const cell = (d: Distribution | undefined, k: 'p50' | 'p99' | 'p999') => (d && d.count ? formatMicros(d[k]) : '–');

function spread(ps: number[]): string {
  if (ps.length < 2) return '–';
  return `${formatMicros(Math.min(...ps))}–${formatMicros(Math.max(...ps))}`;
}

/** The Markdown table printed at the end of a run and saved as summary.md beside run.json. */
export function markdownSummary(run: Run): string {
  // Probe trials carry connect/dns/programming metrics, reported by the scaling section.
  const rows = summarize(run).filter((r) => r.load !== 'probes');
  const lines = [
    `# dpbench run ${run.runId}`,
    '',
    `Scenario \`${String(run.scenario.name)}\` on ${String(run.fingerprint.kernel)} (${String(run.fingerprint.cpus)} CPUs, ${String(run.fingerprint.cpuModel)}).`,
    'Latency counts from the intended send time (open loop, coordinated-omission corrected); repetitions are merged as histograms.',
    '',
    '| datapath | services | load | conn | valid | VIP p50 | VIP p99 | VIP p99.9 | direct p50 | VIP−direct p50 | p50 spread (reps) | achieved rps |',
    '|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    const delta = r.vip?.count && r.direct?.count ? formatMicros(r.vip.p50 - r.direct.p50) : '–';
    lines.push(
      `| ${r.datapath} | ${r.services.toLocaleString('en-US')} | ${r.load} | ${r.connection} | ${r.ok}/${r.total} | ${cell(r.vip, 'p50')} | ${cell(r.vip, 'p99')} | ${cell(r.vip, 'p999')} | ${cell(r.direct, 'p50')} | ${delta} | ${spread(r.repP50s)} | ${r.achievedRps === undefined ? '–' : Math.round(r.achievedRps)} |`,
    );
  }
  const notOk = run.trials.filter((t) => t.status !== 'ok');
  if (notOk.length) {
    // Invalid, skipped and failed trials are listed apart and never mixed into the numbers above.
    lines.push('', '## Trials not counted', '', '| trial | status | reason |', '|---|---|---|');
    for (const t of notOk) lines.push(`| ${t.id} | ${t.status} | ${(t.reason ?? '').replace(/\|/g, '\\|')} |`);
  }
  const impl = new Map(rows.filter((r) => r.implementation).map((r) => [`${r.datapath} @ ${r.services}`, r.implementation!]));
  if (impl.size) {
    lines.push('', '## What implemented each datapath', '');
    for (const [k, v] of impl) lines.push(`- ${k}: ${v}`);
  }
  const scaling = scalingMarkdown(run);
  if (scaling) lines.push('', scaling.trimEnd());
  if (run.hostProbes?.disk) lines.push('', diskMarkdown(run.hostProbes.disk).trimEnd());
  return `${lines.join('\n')}\n`;
}
