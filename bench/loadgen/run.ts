/**
 * dpbench's load engine against the reference tools, in the same run, against the same nginx:
 * open loop vs vegeta at the same constant rate, closed loop vs wrk. Writes the
 * "## Load generator" section of bench/BENCHMARKS.md (other sections are left alone).
 *
 *   npx tsx bench/loadgen/run.ts [--rounds 2] [--rate 5000] [--high-rate 20000] [--duration 10]
 *                                [--rss-minutes 10] [--json out.json] [--no-write]
 *
 * The generator (every tool in turn) is pinned to CPU 0 and nginx to the last CPU. Tools alternate
 * order from round to round so a neighbour's burst or drift hits them alike. Percentiles of
 * several rounds come from merged histograms; vegeta's per-request results are put into the same
 * kind of µs HDR histogram, so both tools' percentiles are computed the same way.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, getPriority, loadavg, release } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { closedLoopMetrics, openLoopMetrics } from '../../src/load/metrics.js';
import { spawnClosedLoop, spawnOpenLoop } from '../../src/load/spawn.js';
import type { OpenLoopResult } from '../../src/load/types.js';
import { decodeHistogram, newHistogram, toDistribution, type Histogram } from '../../src/results/histogram.js';
import type { Distribution } from '../../src/results/model.js';
import { formatMicros } from '../../src/scenario/units.js';
import { startNginx, type LocalNginx } from './nginx.js';
import { ensureVegeta, runVegeta, runWrk, toolVersions, type WrkRun } from './tools.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '2' },
    rate: { type: 'string', default: '5000' },
    'high-rate': { type: 'string', default: '20000' },
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '16' },
    'high-connections': { type: 'string', default: '64' },
    'closed-connections': { type: 'string', default: '64' },
    'rss-minutes': { type: 'string', default: '0' },
    json: { type: 'string' },
    'no-write': { type: 'boolean', default: false },
  },
});
const rounds = Number(values.rounds);
const rate = Number(values.rate);
const highRate = Number(values['high-rate']);
const durationS = Number(values.duration);
const warmupS = 1;
const genCpu = cpus().length >= 2 ? 0 : undefined;
const srvCpu = cpus().length >= 2 ? cpus().length - 1 : undefined;
const log = (s: string) => process.stderr.write(`${s}\n`);

interface OpenSide {
  latency: Histogram;
  service?: Histogram;
  lag?: Histogram;
  achieved: number[];
  errors: number;
  rss: number[];
  extra: string[];
}
const side = (): OpenSide => ({ latency: newHistogram(), service: newHistogram(), lag: newHistogram(), achieved: [], errors: 0, rss: [], extra: [] });
const vside = (): OpenSide => ({ latency: newHistogram(), achieved: [], errors: 0, rss: [], extra: [] });

const dpOpen = (ng: LocalNginx, r: number, connections: number) =>
  spawnOpenLoop(
    { groups: [{ name: 'vip', addresses: [{ host: '127.0.0.1', port: ng.port }] }], rate: r, arrival: 'constant', durationS, warmupS,
      connection: 'keepalive', connections, timeoutS: 2 },
    { cpu: genCpu },
  );

function addDp(s: OpenSide, r: OpenLoopResult): string {
  const g = r.groups[0]!;
  s.latency.add(decodeHistogram(g.latency));
  s.service!.add(decodeHistogram(g.serviceTime));
  s.lag!.add(decodeHistogram(r.scheduleLag));
  s.achieved.push(r.achievedRps);
  s.errors += Object.values(g.errors).reduce((a, b) => a + b, 0);
  s.rss.push(r.maxRssBytes ?? 0);
  s.extra.push(`busy ${(r.busy * 100).toFixed(0)}%, cpu wait ${((r.cpuWait ?? 0) * 100).toFixed(0)}%`);
  const m = openLoopMetrics(r) as Record<string, Distribution>;
  return `achieved ${r.achievedRps.toFixed(1)} · p50 ${m['http.latency']!.p50} p99 ${m['http.latency']!.p99} p99.9 ${m['http.latency']!.p999} µs · lag p99 ${m['http.scheduleLag']!.p99} µs · ${s.extra.at(-1)}`;
}

async function vegetaInto(s: OpenSide, url: string, r: number, maxConnections: number | undefined): Promise<string> {
  const v = await runVegeta(url, r, durationS, warmupS, genCpu, maxConnections);
  s.latency.add(v.latency);
  s.achieved.push(v.achievedRps);
  s.errors += v.errors;
  s.rss.push(v.maxRssBytes);
  const d = toDistribution(v.latency);
  return `achieved ${v.achievedRps.toFixed(1)} · p50 ${d.p50} p99 ${d.p99} p99.9 ${d.p999} µs · errors ${v.errors}`;
}

async function main(): Promise<void> {
  const vegeta = await ensureVegeta();
  log(`vegeta: ${vegeta}`);
  const versions = await toolVersions();
  const load0 = loadavg();
  const ng = await startNginx(srvCpu);
  const url = `http://127.0.0.1:${ng.port}/`;
  const dp5 = side();
  const vg5 = vside();
  const vg5d = vside();
  const dp20 = side();
  const vg20 = vside();
  const wrk: WrkRun[] = [];
  const closed: { rps: number; p50: number; p99: number; cpu: number }[] = [];
  let rssLong: { minutes: number; maxRssBytes: number; achieved: number; p99: number } | undefined;
  try {
    for (let round = 0; round < rounds; round++) {
      const steps: [string, () => Promise<string>][] = [
        [`dpbench open ${rate}`, async () => addDp(dp5, await dpOpen(ng, rate, Number(values.connections)))],
        [`vegeta ${rate} (same pool)`, () => vegetaInto(vg5, url, rate, Number(values.connections))],
        [`dpbench open ${highRate}`, async () => addDp(dp20, await dpOpen(ng, highRate, Number(values['high-connections'])))],
        [`vegeta ${highRate} (same pool)`, () => vegetaInto(vg20, url, highRate, Number(values['high-connections']))],
        ['wrk closed', async () => {
          const w = await runWrk(url, Number(values['closed-connections']), durationS, genCpu);
          wrk.push(w);
          return `${w.rps.toFixed(0)} req/s · p50 ${w.p50Us} p99 ${w.p99Us} µs`;
        }],
        ['dpbench closed', async () => {
          const r = await spawnClosedLoop({ groups: [{ name: 'vip', addresses: [{ host: '127.0.0.1', port: ng.port }] }], durationS, warmupS,
            connections: Number(values['closed-connections']), pipelining: 1, connection: 'keepalive', timeoutS: 2 }, { cpu: genCpu });
          const m = closedLoopMetrics(r) as Record<string, Distribution>;
          closed.push({ rps: r.achievedRps, p50: m['http.latency']!.p50, p99: m['http.latency']!.p99, cpu: r.cpu });
          return `${r.achievedRps.toFixed(0)} req/s · p50 ${m['http.latency']!.p50} p99 ${m['http.latency']!.p99} µs · cpu ${r.cpu.toFixed(2)}`;
        }],
      ];
      // Pairs stay adjacent (tool vs reference back to back); pair order flips every round. vegeta
      // with its own defaults (unbounded connections) runs once per round after the pairs.
      const ordered = round % 2 === 0 ? steps : [steps[1]!, steps[0]!, steps[3]!, steps[2]!, steps[5]!, steps[4]!];
      ordered.push([`vegeta ${rate} (defaults)`, () => vegetaInto(vg5d, url, rate, undefined)]);
      for (const [name, f] of ordered) log(`round ${round + 1}/${rounds} ${name}: ${await f()} (load ${loadavg()[0]!.toFixed(2)})`);
    }
    const minutes = Number(values['rss-minutes']);
    if (minutes > 0) {
      log(`memory: ${minutes} min at ${rate} req/s`);
      const r = await spawnOpenLoop(
        { groups: [{ name: 'vip', addresses: [{ host: '127.0.0.1', port: ng.port }] }], rate, arrival: 'constant', durationS: minutes * 60, warmupS,
          connection: 'keepalive', connections: Number(values.connections), timeoutS: 2 },
        { cpu: genCpu },
      );
      rssLong = { minutes, maxRssBytes: r.maxRssBytes ?? 0, achieved: r.achievedRps, p99: toDistribution(decodeHistogram(r.groups[0]!.latency)).p99 };
      log(`memory: max RSS ${((rssLong.maxRssBytes) / 1e6).toFixed(1)} MB, achieved ${r.achievedRps.toFixed(1)}, p99 ${rssLong.p99} µs`);
    }
  } finally {
    await ng.stop();
  }
  const load1 = loadavg();

  const md = section({ versions, load0, load1, dp5, vg5, vg5d, dp20, vg20, wrk, closed, rssLong });
  process.stdout.write(`${md}\n`);
  if (values.json) {
    const dist = (h: Histogram) => { const d = toDistribution(h); return { ...d, hdr: undefined }; };
    writeFileSync(values.json, JSON.stringify({
      versions, load0, load1,
      open: { dpbench: { latency: dist(dp5.latency), service: dist(dp5.service!), lag: dist(dp5.lag!), achieved: dp5.achieved, rss: dp5.rss },
        vegeta: { latency: dist(vg5.latency), achieved: vg5.achieved, rss: vg5.rss }, vegetaDefaults: { latency: dist(vg5d.latency), achieved: vg5d.achieved, errors: vg5d.errors } },
      high: { dpbench: { latency: dist(dp20.latency), lag: dist(dp20.lag!), achieved: dp20.achieved }, vegeta: { latency: dist(vg20.latency), achieved: vg20.achieved } },
      wrk, closed, rssLong,
    }, null, 2));
  }
  if (!values['no-write']) writeSection(md);
}

interface Summary {
  versions: Record<string, string>;
  load0: number[];
  load1: number[];
  dp5: OpenSide;
  vg5: OpenSide;
  vg5d: OpenSide;
  dp20: OpenSide;
  vg20: OpenSide;
  wrk: WrkRun[];
  closed: { rps: number; p50: number; p99: number; cpu: number }[];
  rssLong?: { minutes: number; maxRssBytes: number; achieved: number; p99: number } | undefined;
}

const f = formatMicros;
const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
const mb = (b: number) => `${(b / 1e6).toFixed(0)} MB`;
const worst = (xs: number[], target: number) => Math.max(...xs.map((a) => Math.abs(target - a) / target));
const ratio = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(2)}×` : '–');
const mark = (ok: boolean) => (ok ? 'met' : '**missed**');

function openTable(title: string, target: number, dp: OpenSide, vg: OpenSide, vgDefaults?: OpenSide): string[] {
  const d = toDistribution(dp.latency);
  const s = toDistribution(dp.service!);
  const l = toDistribution(dp.lag!);
  const v = toDistribution(vg.latency);
  return [
    `### ${title}`,
    '',
    '| | achieved (worst round, off target) | p50 | p90 | p99 | p99.9 | max | schedule lag p99 | errors |',
    '|---|---|---|---|---|---|---|---|---|',
    `| dpbench latency (from intended send) | ${dp.achieved.map((a) => a.toFixed(0)).join(', ')} (${pct(worst(dp.achieved, target))}) | ${f(d.p50)} | ${f(d.p90)} | ${f(d.p99)} | ${f(d.p999)} | ${f(d.max)} | ${f(l.p99)} | ${dp.errors} |`,
    `| dpbench service time (from actual send) | | ${f(s.p50)} | ${f(s.p90)} | ${f(s.p99)} | ${f(s.p999)} | ${f(s.max)} | | |`,
    vegetaRow('vegeta, same connection pool', target, vg),
    `| **dpbench ÷ vegeta** | | ${ratio(d.p50, v.p50)} | ${ratio(d.p90, v.p90)} | ${ratio(d.p99, v.p99)} | ${ratio(d.p999, v.p999)} | ${ratio(d.max, v.max)} | | |`,
    ...(vgDefaults ? [vegetaRow('vegeta, its defaults (unbounded connections)', target, vgDefaults)] : []),
    '',
    `dpbench generator per round: ${dp.extra.join(' · ')}. Peak RSS: dpbench ${dp.rss.map(mb).join(', ')}; vegeta ${vg.rss.map(mb).join(', ')}.`,
    '',
  ];
}

function vegetaRow(label: string, target: number, vg: OpenSide): string {
  const v = toDistribution(vg.latency);
  return `| ${label} (latency from its send) | ${vg.achieved.map((a) => a.toFixed(0)).join(', ')} (${pct(worst(vg.achieved, target))}) | ${f(v.p50)} | ${f(v.p90)} | ${f(v.p99)} | ${f(v.p999)} | ${f(v.max)} | – | ${vg.errors} |`;
}

function section(x: Summary): string {
  const d5 = toDistribution(x.dp5.latency);
  const l5 = toDistribution(x.dp5.lag!);
  const v5 = toDistribution(x.vg5.latency);
  const vBest = x.vg5d.latency.totalCount ? Math.min(v5.p99, toDistribution(x.vg5d.latency).p99) : v5.p99;
  const d20 = toDistribution(x.dp20.latency);
  const wrkRps = x.wrk.reduce((a, w) => a + w.rps, 0) / Math.max(1, x.wrk.length);
  const dpRps = x.closed.reduce((a, c) => a + c.rps, 0) / Math.max(1, x.closed.length);
  const targets: [string, string, boolean][] = [
    [`${rate} req/s achieved within 0.5%`, `worst round ${pct(worst(x.dp5.achieved, rate))}`, worst(x.dp5.achieved, rate) <= 0.005],
    ['p50 ≤ 50 µs', f(d5.p50), d5.p50 <= 50],
    ['p99 ≤ 1 ms', f(d5.p99), d5.p99 <= 1000],
    ['p99.9 ≤ 5 ms', f(d5.p999), d5.p999 <= 5000],
    ['schedule lag p99 ≤ 200 µs', f(l5.p99), l5.p99 <= 200],
    ['p99 no worse than vegeta\'s (same run; the better of its two set-ups)', `${f(d5.p99)} vs ${f(vBest)}`, d5.p99 <= vBest],
    [`${highRate} req/s sustained with p99 ≤ 5 ms`, `achieved ${x.dp20.achieved.map((a) => a.toFixed(0)).join(', ')}, p99 ${f(d20.p99)}`,
      worst(x.dp20.achieved, highRate) <= 0.01 && d20.p99 <= 5000],
    ['closed-loop throughput ≥ 50% of wrk\'s', `${dpRps.toFixed(0)} vs ${wrkRps.toFixed(0)} req/s (${ratio(dpRps, wrkRps)})`, dpRps >= 0.5 * wrkRps],
  ];
  if (x.rssLong) targets.push([`${x.rssLong.minutes}-minute ${rate} req/s run under 200 MB RSS`, mb(x.rssLong.maxRssBytes), x.rssLong.maxRssBytes < 200e6]);
  const cmd = `npx tsx bench/loadgen/run.ts --rounds ${rounds} --rate ${rate} --high-rate ${highRate} --duration ${durationS}${x.rssLong ? ` --rss-minutes ${x.rssLong.minutes}` : ''}`;
  return [
    '## Load generator',
    '',
    `Reproduce: \`${cmd}\` (as root; installs vegeta into ${'/var/cache/dpbench/bin'} if missing).`,
    '',
    `Machine: ${cpus().length} × ${x.versions.cpu}, Linux ${release()}, Node ${x.versions.node}, ${x.versions.nginx}, ${x.versions.wrk}, vegeta ${x.versions.vegeta}.`,
    `Load average (1 min) at start ${x.load0[0]!.toFixed(2)}, at end ${x.load1[0]!.toFixed(2)}, on ${cpus().length} CPUs: other work was running, see the notes.`,
    `Every generator pinned to CPU ${genCpu ?? '–'}, nginx (1 worker, the lab echo config) to CPU ${srvCpu ?? '–'}; ${rounds} rounds, ${durationS} s measured + ${warmupS} s warm-up each, tools alternating order.`,
    `Open loop: constant rate, keep-alive; dpbench with ${values.connections} connections at ${rate} req/s and ${values['high-connections']} at ${highRate}; vegeta with the same pool (\`-max-connections\`), and once a round with its defaults (unbounded connections). Percentiles are from histograms merged over rounds.`,
    `Scheduling priority of every tool: nice ${getPriority()}.`,
    '',
    '### Targets',
    '',
    '| target | measured | |',
    '|---|---|---|',
    ...targets.map(([t, m, ok]) => `| ${t} | ${m} | ${mark(ok)} |`),
    '',
    ...openTable(`Open loop, ${rate} req/s`, rate, x.dp5, x.vg5, x.vg5d),
    ...openTable(`Open loop, ${highRate} req/s`, highRate, x.dp20, x.vg20),
    `### Closed loop, ${values['closed-connections']} connections`,
    '',
    '| round | wrk req/s | wrk p50 / p99 | dpbench (autocannon) req/s | dpbench p50 / p99 | dpbench ÷ wrk | dpbench generator CPU |',
    '|---|---|---|---|---|---|---|',
    ...x.wrk.map((w, i) => {
      const c = x.closed[i]!;
      return `| ${i + 1} | ${w.rps.toFixed(0)} | ${f(w.p50Us)} / ${f(w.p99Us)} | ${c.rps.toFixed(0)} | ${f(c.p50)} / ${f(c.p99)} | ${ratio(c.rps, w.rps)} | ${c.cpu.toFixed(2)} cores |`;
    }),
    '',
  ].join('\n');
}

/** Replaces our section of BENCHMARKS.md, or appends it; other sections stay as they are. */
function writeSection(md: string): void {
  const file = join(import.meta.dirname, '..', 'BENCHMARKS.md');
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '# dpbench benchmarks\n';
  const start = text.indexOf('\n## Load generator');
  let out: string;
  if (start < 0) out = `${text.trimEnd()}\n\n${md}`;
  else {
    const next = text.indexOf('\n## ', start + 1);
    out = `${text.slice(0, start).trimEnd()}\n\n${md.trimEnd()}\n${next < 0 ? '' : `\n${text.slice(next + 1)}`}`;
  }
  writeFileSync(file, `${out.trimEnd()}\n`);
}

await main();
