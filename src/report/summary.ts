import { median } from 'simple-statistics';
import { isDistribution, type Distribution, type Run, type TrialResult } from '../results/model.js';
import { mergeHistograms, toDistribution } from '../results/histogram.js';
import { DEFAULT_MAX_LAG_P99_US } from '../scenario/schema.js';
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
  /** New-connection loads: VIP connection set-up (`http.connect`), where a datapath's per-connection cost lands. */
  connect?: Distribution;
  /** The generator's schedule lag (actual − intended send): what of the tail is the generator's. */
  lag?: Distribution;
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
      connect: merged(ok, 'http.connect'),
      lag: merged(ok, 'http.scheduleLag'),
      repP50s: ok.map((t) => t.metrics['http.latency']).filter((m) => m && isDistribution(m)).map((m) => (m as Distribution).p50),
      achievedRps: rps.length ? rps.reduce((a, b) => a + b.value, 0) / rps.length : undefined,
      implementation: first.implementation,
    });
  }
  return rows;
}

/** One row of the max-rate table: all repetitions of datapath × services × a search load. */
export interface MaxRateRow {
  datapath: string;
  services: number;
  load: string;
  connection: string;
  sloP99Us: number;
  /** search.maxRate: an answer equal to it only says the true max is at least this. */
  ceiling: number;
  ok: number;
  total: number;
  /** http.maxRateAtSlo of each valid repetition. */
  maxRates: number[];
  /** VIP latency at each repetition's max rate, merged (the rates differ a little between reps). */
  vip?: Distribution;
  /** Most steps any repetition took. */
  steps: number;
  /** What stopped the first valid repetition's search (its reason). */
  stoppedBy?: string;
}

const scalarOf = (t: TrialResult, k: string): number | undefined => {
  const m = t.metrics[k];
  return m && !isDistribution(m) ? m.value : undefined;
};

export function summarizeMaxRate(run: Run): MaxRateRow[] {
  const groups = new Map<string, TrialResult[]>();
  for (const t of run.trials) if (t.load.search) groups.set(key(t), [...(groups.get(key(t)) ?? []), t]);
  return [...groups.values()].map((ts) => {
    const ok = ts.filter((t) => t.status === 'ok');
    const first = ts[0]!;
    return {
      datapath: first.datapath,
      services: first.services,
      load: first.load.name,
      connection: first.load.connection,
      sloP99Us: first.load.search!.sloP99,
      ceiling: first.load.search!.maxRate,
      ok: ok.length,
      total: ts.length,
      maxRates: ok.map((t) => scalarOf(t, 'http.maxRateAtSlo')).filter((v): v is number => v !== undefined),
      vip: merged(ok, 'http.latency'),
      steps: Math.max(0, ...ts.map((t) => scalarOf(t, 'http.maxRateSteps') ?? 0)),
      stoppedBy: ok[0]?.reason,
    };
  });
}

const esc = (s: string) => s.replace(/\|/g, '\\|');

function maxRateMarkdown(rows: readonly MaxRateRow[]): string[] {
  const lines = [
    '## Max rate at SLO',
    '',
    'Highest open-loop rate (VIP and direct requests together) at which VIP p99 stayed within the SLO and the rate was achieved,',
    'found by a bounded search (`search` in the load); ≥ means the search reached search.maxRate. Latency is at that rate.',
    '',
    '| datapath | services | load | conn | p99 SLO | valid | max rate (req/s) | range (reps) | VIP p50 at max | VIP p99 at max | steps | stopped by |',
    '|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---|',
  ];
  const n = (x: number) => Math.round(x).toLocaleString('en-US');
  for (const r of rows) {
    const m = r.maxRates.length ? median(r.maxRates) : undefined;
    const rate = m === undefined ? '–' : `${m >= r.ceiling ? '≥ ' : ''}${n(m)}`;
    const range = r.maxRates.length < 2 ? '–' : `${n(Math.min(...r.maxRates))}–${n(Math.max(...r.maxRates))}`;
    lines.push(
      `| ${r.datapath} | ${r.services.toLocaleString('en-US')} | ${r.load} | ${r.connection} | ${formatMicros(r.sloP99Us)} | ${r.ok}/${r.total} | ${rate} | ${range} | ${cell(r.vip, 'p50')} | ${cell(r.vip, 'p99')} | ${r.steps} | ${esc(r.stoppedBy ?? '–')} |`,
    );
  }
  return lines;
}

const cell = (d: Distribution | undefined, k: 'p50' | 'p99' | 'p999') => (d && d.count ? formatMicros(d[k]) : '–');

/** How many times p50 grew, and by how much: the µs added is what carries over to a host with another base latency. */
const growth = (a: Distribution | undefined, b: Distribution | undefined) =>
  a?.count && b?.count ? `${(b.p50 / a.p50).toFixed(2)}× (${b.p50 >= a.p50 ? '+' : ''}${formatMicros(b.p50 - a.p50)})` : '–';
const span = (a: Distribution | undefined, b: Distribution | undefined) => `${cell(a, 'p50')} → ${cell(b, 'p50')}`;

/**
 * Per datapath × load, p50 at the fewest and at the most services, how many times it grew and by
 * how many µs: the shootout's question in one line each. Connection set-up is shown apart because a datapath's
 * per-connection cost (iptables' KUBE-SERVICES walk) lands there, while the whole request adds the
 * server's time and the client's, which no datapath changes.
 */
function growthMarkdown(rows: readonly SummaryRow[]): string[] {
  const byLoad = new Map<string, SummaryRow[]>();
  for (const r of rows) {
    const k = `${r.datapath}\u0000${r.load}`;
    byLoad.set(k, [...(byLoad.get(k) ?? []), r]);
  }
  const lines: string[] = [];
  for (const rs of byLoad.values()) {
    const valid = rs.filter((r) => r.vip?.count).sort((a, b) => a.services - b.services);
    if (valid.length < 2) continue;
    const [lo, hi] = [valid[0]!, valid[valid.length - 1]!];
    lines.push(
      `| ${lo.datapath} | ${lo.load} | ${lo.services.toLocaleString('en-US')} → ${hi.services.toLocaleString('en-US')} | ${span(lo.vip, hi.vip)} | ${growth(lo.vip, hi.vip)} | ${lo.connect ? `${span(lo.connect, hi.connect)} | ${growth(lo.connect, hi.connect)}` : '– | –'} |`,
    );
  }
  if (!lines.length) return [];
  return [
    '## Growth with the number of services',
    '',
    'VIP p50 of the merged valid repetitions at the fewest and the most services. "VIP connect" is the connection set-up alone (new-connection loads).',
    '',
    '| datapath | load | services | VIP p50 | growth | VIP connect p50 | growth |',
    '|---|---|---|---:|---:|---:|---:|',
    ...lines,
  ];
}

function spread(ps: number[]): string {
  if (ps.length < 2) return '–';
  return `${formatMicros(Math.min(...ps))}–${formatMicros(Math.max(...ps))}`;
}

/** The Markdown table printed at the end of a run and saved as summary.md beside run.json. */
export function markdownSummary(run: Run): string {
  // Probe trials carry connect/dns/programming metrics, reported by the scaling section; search
  // trials ran at a different rate each, so they get their own table.
  const searches = new Set(run.trials.filter((t) => t.load.search).map((t) => t.load.name));
  const all = summarize(run).filter((r) => r.load !== 'probes');
  const rows = all.filter((r) => !searches.has(r.load));
  const maxRates = summarizeMaxRate(run);
  const lines = [
    `# dpbench run ${run.runId}`,
    '',
    `Scenario \`${String(run.scenario.name)}\` on ${String(run.fingerprint.kernel)} (${String(run.fingerprint.cpus)} CPUs, ${String(run.fingerprint.cpuModel)}).`,
    'Latency counts from the intended send time (open loop, coordinated-omission corrected); repetitions are merged as histograms.',
    `"gen lag p99" is the load generator's own schedule lag: a VIP p99 not well above it is partly the generator's. Trials with lag p99 over ${formatMicros(Number((run.scenario.selfCheck as { maxLagP99?: number } | undefined)?.maxLagP99 ?? DEFAULT_MAX_LAG_P99_US))} are invalid.`,
  ];
  if (rows.length || !maxRates.length) {
    lines.push(
      '',
      '| datapath | services | load | conn | valid | VIP p50 | VIP p99 | VIP p99.9 | direct p50 | VIP−direct p50 | p50 spread (reps) | gen lag p99 | achieved rps |',
      '|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    );
  }
  for (const r of rows) {
    const delta = r.vip?.count && r.direct?.count ? formatMicros(r.vip.p50 - r.direct.p50) : '–';
    lines.push(
      `| ${r.datapath} | ${r.services.toLocaleString('en-US')} | ${r.load} | ${r.connection} | ${r.ok}/${r.total} | ${cell(r.vip, 'p50')} | ${cell(r.vip, 'p99')} | ${cell(r.vip, 'p999')} | ${cell(r.direct, 'p50')} | ${delta} | ${spread(r.repP50s)} | ${cell(r.lag, 'p99')} | ${r.achievedRps === undefined ? '–' : Math.round(r.achievedRps)} |`,
    );
  }
  const retransmitted = run.trials.filter((t) => t.status === 'ok' && (scalarOf(t, 'tcp.synRetransmits') ?? 0) > 0);
  if (retransmitted.length) {
    // A retransmitted SYN waits a full initial RTO (1 s): a p99 near 1 s is dropped packets, not a slow datapath.
    lines.push('', 'SYN retransmits (each one is a connection that waited 1 s): ' +
      retransmitted.map((t) => `${t.id} ${scalarOf(t, 'tcp.synRetransmits')}`).join(', ') + '.');
  }
  const grown = growthMarkdown(rows);
  if (grown.length) lines.push('', ...grown);
  if (maxRates.length) lines.push('', ...maxRateMarkdown(maxRates));
  const notOk = run.trials.filter((t) => t.status !== 'ok');
  if (notOk.length) {
    // Invalid, skipped and failed trials are listed apart and never mixed into the numbers above.
    lines.push('', '## Trials not counted', '', '| trial | status | reason |', '|---|---|---|');
    for (const t of notOk) lines.push(`| ${t.id} | ${t.status} | ${esc(t.reason ?? '')} |`);
  }
  const impl = new Map(all.filter((r) => r.implementation).map((r) => [`${r.datapath} @ ${r.services}`, r.implementation!]));
  if (impl.size) {
    lines.push('', '## What implemented each datapath', '');
    for (const [k, v] of impl) lines.push(`- ${k}: ${v}`);
  }
  const scaling = scalingMarkdown(run);
  if (scaling) lines.push('', scaling.trimEnd());
  if (run.hostProbes?.disk) lines.push('', diskMarkdown(run.hostProbes.disk).trimEnd());
  return `${lines.join('\n')}\n`;
}
