import { linearRegression, linearRegressionLine, rSquared } from 'simple-statistics';
import { mergeHistograms, toDistribution } from '../results/histogram.js';
import { isDistribution, type Distribution, type Run, type TrialResult } from '../results/model.js';
import { formatMicros } from '../scenario/units.js';

/** Probe metrics the scaling section fits, in the order it shows them. */
export const SCALING_METRICS = [
  'connect.vip',
  'connect.vip.worst',
  'connect.direct',
  'dns.lookup',
  'dns.lookup.external',
  'programming.add',
  'programming.remove',
] as const;

export interface ScalingFit {
  metric: string;
  datapath: string;
  /** (services, p50 µs) of every valid trial: repetitions are separate points, never averaged. */
  points: [number, number][];
  /** Distinct service counts among the points; a line through fewer than 2 says nothing. */
  counts: number;
  usPer1kServices: number;
  interceptUs: number;
  r2: number;
  /** p50 the line predicts at `projectAt` services, when asked for. */
  projectedUs?: number;
}

/**
 * Per metric and datapath, a least-squares line of p50 latency against the number of services
 * (simple-statistics). Only trials with status ok count. The slope reads as µs per 1,000 services.
 */
export function scalingFits(run: Run, projectAt?: number): ScalingFit[] {
  const out: ScalingFit[] = [];
  const datapaths = [...new Set(run.trials.map((t) => t.datapath))];
  for (const metric of SCALING_METRICS) {
    for (const datapath of datapaths) {
      const points: [number, number][] = [];
      for (const t of run.trials) {
        const m = t.metrics[metric];
        if (t.datapath !== datapath || t.status !== 'ok' || !m || !isDistribution(m) || m.count === 0) continue;
        points.push([t.services, m.p50]);
      }
      const counts = new Set(points.map((p) => p[0])).size;
      if (counts < 2) continue;
      const l = linearRegression(points);
      const line = linearRegressionLine(l);
      out.push({
        metric,
        datapath,
        points,
        counts,
        usPer1kServices: l.m * 1000,
        interceptUs: l.b,
        r2: rSquared(points, line),
        projectedUs: projectAt === undefined ? undefined : line(projectAt),
      });
    }
  }
  return out;
}

const fixed = (x: number, digits: number) => (Number.isFinite(x) ? x.toFixed(digits) : '–');

function merged(trials: readonly TrialResult[], metric: string): Distribution | undefined {
  const hs = trials.map((t) => t.metrics[metric]).filter((m): m is Distribution => !!m && isDistribution(m) && m.count > 0);
  return hs.length ? toDistribution(mergeHistograms(hs.map((h) => h.hdr))) : undefined;
}

const p = (d: Distribution | undefined, k: 'p50' | 'p99' = 'p50') => (d ? formatMicros(d[k]) : '–');

/** NAT cost of each repetition with its interval; repetitions are listed, never averaged. */
function natCost(trials: readonly TrialResult[], name: string): string {
  const out: string[] = [];
  for (const t of trials) {
    const v = t.metrics[name];
    const lo = t.metrics[`${name}.ci95Low`];
    const hi = t.metrics[`${name}.ci95High`];
    if (v && lo && hi && !isDistribution(v) && !isDistribution(lo) && !isDistribution(hi)) out.push(`${v.value} [${lo.value}, ${hi.value}]`);
  }
  return out.length ? out.join('; ') : '–';
}

/** One row per datapath × services: probe percentiles from the merged histograms of valid trials. */
function probeTable(run: Run): string[] {
  const groups = new Map<string, TrialResult[]>();
  for (const t of run.trials) {
    if (t.status !== 'ok' || t.load.name !== 'probes') continue;
    const k = `${t.datapath}\u0000${t.services}`;
    groups.set(k, [...(groups.get(k) ?? []), t]);
  }
  if (groups.size === 0) return [];
  const lines = [
    '## Service resolution per datapath and service count',
    '',
    'p50 of the merged valid repetitions (p99 where shown). NAT cost: median of paired VIP − direct connect times, µs, with its 95% bootstrap interval, one per repetition.',
    '',
    '| datapath | services | connect VIP | VIP last-installed | direct | NAT cost random VIP | NAT cost last VIP | dns.lookup | dns.lookup.external | programming.add p50 / p99 | programming.remove p50 / p99 |',
    '|---|---:|---:|---:|---:|---|---|---:|---:|---:|---:|',
  ];
  for (const ts of groups.values()) {
    const t = ts[0]!;
    const m = (name: string) => merged(ts, name);
    lines.push(
      `| ${t.datapath} | ${t.services.toLocaleString('en-US')} | ${p(m('connect.vip'))} | ${p(m('connect.vip.worst'))} | ${p(m('connect.direct'))} | ${natCost(ts, 'connect.natCost')} | ${natCost(ts, 'connect.natCost.worst')} | ${p(m('dns.lookup'))} | ${p(m('dns.lookup.external'))} | ${p(m('programming.add'))} / ${p(m('programming.add'), 'p99')} | ${p(m('programming.remove'))} / ${p(m('programming.remove'), 'p99')} |`,
    );
  }
  return [...lines, ''];
}

/**
 * The "Scaling" section of the report: one row per metric × datapath. `projectAt` defaults to the
 * scenario's `fit.projectAt`. A projection is a straight line carried past the data: the table
 * says how far, and a low R² says not to trust it.
 */
export function scalingMarkdown(run: Run, projectAt?: number): string {
  const at = projectAt ?? (run.scenario.fit as { projectAt?: number } | undefined)?.projectAt;
  const fits = scalingFits(run, at);
  const table = probeTable(run);
  if (fits.length === 0) return table.length ? `${table.join('\n')}` : '';
  const lines = [
    ...table,
    '## Scaling with the number of services',
    '',
    'Least-squares line of each valid trial\'s p50 against the service count (repetitions are separate points).',
    'connect.natCost in run.json is the VIP−direct difference with its 95% bootstrap interval. Under iptables',
    'the direct connections walk KUBE-SERVICES too, so connect.direct grows with services there as well.',
    'The DNS service is installed after the background services: last in iptables\' KUBE-SERVICES.',
    '',
    `| metric | datapath | points (counts) | µs per 1,000 services | intercept | R² |${at === undefined ? '' : ` p50 at ${at.toLocaleString('en-US')} services |`}`,
    `|---|---|---:|---:|---:|---:|${at === undefined ? '' : '---:|'}`,
  ];
  for (const f of fits) {
    const maxN = Math.max(...f.points.map((p) => p[0]));
    const proj = f.projectedUs === undefined ? '' : ` ${formatMicros(f.projectedUs)}${at! > maxN ? ` (beyond ${maxN.toLocaleString('en-US')})` : ''} |`;
    lines.push(
      `| ${f.metric} | ${f.datapath} | ${f.points.length} (${f.counts}) | ${fixed(f.usPer1kServices, 2)} | ${formatMicros(f.interceptUs)} | ${fixed(f.r2, 3)} |${proj}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
