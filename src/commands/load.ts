import { badInput, ExitCode } from '../errors.js';
import { CLOSED_NEW_CONNECTION_UNSUPPORTED } from '../load/closed-loop.js';
import { closedLoopMetrics, maxRateMetrics, openLoopMetrics } from '../load/metrics.js';
import { findMaxRate, type MaxRateResult } from '../load/max-rate.js';
import { selfCheck, selfCheckClosed } from '../load/self-check.js';
import { spawnClosedLoop, spawnOpenLoop } from '../load/spawn.js';
import { parseLoadUrl } from '../load/target-url.js';
import type { OpenLoopConfig, TargetGroup } from '../load/types.js';
import { decodeHistogram } from '../results/histogram.js';
import { isDistribution, type Metric } from '../results/model.js';
import { LoadProfileSchema, type LoadProfile } from '../scenario/schema.js';
import { formatMicros, parseMicros } from '../scenario/units.js';
import type { Placement } from '../util/netns-worker.js';
import type { CommandSpec } from './command.js';

export interface LoadArgs {
  url: string;
  rate?: number;
  duration: string;
  warmup: string;
  connections: number;
  newConnection: boolean;
  closed: boolean;
  pipelining: number;
  timeout: string;
  poisson: boolean;
  workers: number;
  cpu?: number;
  netns?: string;
  findMaxRate: boolean;
  slo: string;
  maxRate: number;
}

/** Flags become the same load profile a scenario holds, so both are validated by one schema. */
function profileFrom(a: LoadArgs): LoadProfile {
  const r = LoadProfileSchema.safeParse({
    name: 'cli',
    mode: a.closed ? 'closed' : 'open',
    rate: a.findMaxRate ? (a.rate ?? 1000) : a.rate,
    arrival: a.poisson ? 'poisson' : 'constant',
    duration: /^\d+(\.\d+)?$/.test(a.duration) ? Number(a.duration) : a.duration,
    warmup: /^\d+(\.\d+)?$/.test(a.warmup) ? Number(a.warmup) : a.warmup,
    connections: a.connections,
    connection: a.newConnection ? 'new' : 'keepalive',
    pipelining: a.pipelining,
    timeout: /^\d+(\.\d+)?$/.test(a.timeout) ? Number(a.timeout) : a.timeout,
  });
  if (!r.success) {
    throw badInput('invalid load options', 'see `dpbench load --help`', r.error.issues.map((i) => `--${String(i.path[0] ?? '')}: ${i.message}`));
  }
  return r.data;
}

const ROWS: [string, string][] = [
  ['latency', 'http.latency'],
  ['connect', 'http.connect'], // --new-connection only
  ['service time', 'http.serviceTime'],
  ['schedule lag', 'http.scheduleLag'],
];

function table(m: Record<string, Metric>): string[] {
  const cols = ['p50', 'p90', 'p99', 'p999', 'max'] as const;
  const out = [`${''.padEnd(14)}${cols.map((c) => (c === 'p999' ? 'p99.9' : c).padStart(10)).join('')}`];
  for (const [label, key] of ROWS) {
    const d = m[key];
    if (d && isDistribution(d)) out.push(`${label.padEnd(14)}${cols.map((c) => formatMicros(d[c]).padStart(10)).join('')}`);
  }
  return out;
}

const scalar = (m: Record<string, Metric>, k: string) => {
  const v = m[k];
  return v && !isDistribution(v) ? v.value : 0;
};

export const loadCommand: CommandSpec<LoadArgs> = {
  command: 'load <url>',
  describe: 'Drive HTTP load at a URL on loopback or inside the lab (open loop by default, like wrk2 or vegeta)',
  examples: [
    ['$0 load http://127.0.0.1:8080/ --rate 5000 --duration 10s', 'open loop at 5,000 req/s, latency from the intended send time'],
    ['$0 load http://127.0.0.1:8080/ --rate 2000 --new-connection', 'a new TCP connection per request (Connection: close)'],
    ['$0 load http://127.0.0.1:8080/ --closed --connections 64', 'closed-loop saturation (autocannon), µs response times'],
    ['$0 load http://127.0.0.1:8080/ --find-max-rate --slo 1ms', 'highest rate whose p99 stays within 1 ms'],
    ['$0 load http://198.18.1.2:8080/ --rate 1000 --netns dpb-ab12-client', 'from inside a running lab'],
  ],
  builder: (y) =>
    y
      .positional('url', { type: 'string', demandOption: true, describe: 'http:// URL on 127.0.0.0/8, ::1 or 198.18.0.0/15' })
      .option('rate', { type: 'number', describe: 'requests per second (open loop; the starting rate of --find-max-rate)' })
      .option('duration', { type: 'string', default: '10s', describe: 'measured time' })
      .option('warmup', { type: 'string', default: '1s', describe: 'time before measuring, excluded from the results' })
      .option('connections', { type: 'number', default: 16, describe: 'keep-alive pool (open) or concurrent connections (closed)' })
      .option('new-connection', { type: 'boolean', default: false, describe: 'one TCP connection per request, Connection: close' })
      .option('closed', { type: 'boolean', default: false, describe: 'closed-loop saturation instead of a fixed schedule' })
      .option('pipelining', { type: 'number', default: 1, describe: 'requests in flight per connection (closed loop)' })
      .option('timeout', { type: 'string', default: '2s', describe: 'a request slower than this is an error, recorded at the timeout' })
      .option('poisson', { type: 'boolean', default: false, describe: 'Poisson arrivals instead of a constant rate' })
      .option('workers', { type: 'number', default: 1, describe: 'generator processes sharing the rate (histograms merged)' })
      .option('cpu', { type: 'number', describe: 'pin the generator to this CPU' })
      .option('netns', { type: 'string', describe: 'run the generator inside this lab namespace (dpb-*)' })
      .option('find-max-rate', { type: 'boolean', default: false, describe: 'search for the highest rate meeting --slo' })
      .option('slo', { type: 'string', default: '1ms', describe: 'p99 bound for --find-max-rate' })
      .option('max-rate', { type: 'number', default: 50_000, describe: 'upper bound of --find-max-rate' }),
  async run(args, ctx) {
    const url = parseLoadUrl(args.url);
    const l = profileFrom(args);
    if (args.netns !== undefined && !/^dpb-[a-z0-9-]+$/.test(args.netns)) {
      throw badInput(`--netns ${args.netns} is not a dpbench lab namespace`, 'lab namespaces are named dpb-<id>-*; see `ip netns list`');
    }
    if (!Number.isInteger(args.workers) || args.workers < 1 || args.workers > 64) throw badInput('--workers must be 1 to 64', 'one per spare CPU is plenty');
    const where: Placement = {};
    if (args.netns) where.netns = args.netns;
    if (args.cpu !== undefined) where.cpu = args.cpu;
    const groups: TargetGroup[] = [{ name: 'vip', addresses: [{ host: url.host, port: url.port }] }];
    const head = `${args.url}: `;

    if (l.mode === 'closed') {
      if (l.connection === 'new') throw badInput(CLOSED_NEW_CONNECTION_UNSUPPORTED, 'drop --closed to measure new connections at a fixed rate');
      ctx.progress(`${head}closed loop, ${l.connections} connections × pipelining ${l.pipelining}, ${l.duration} s (+${l.warmup} s warm-up)`);
      const r = await spawnClosedLoop({ groups, durationS: l.duration, warmupS: l.warmup, connections: l.connections, pipelining: l.pipelining,
        connection: l.connection, timeoutS: l.timeout, path: url.path }, where, ctx.signal);
      const metrics = closedLoopMetrics(r);
      const reasons = selfCheckClosed(r);
      return output(args.url, 'closed', metrics, reasons, [
        `achieved ${scalar(metrics, 'http.achievedRps')} req/s · ${scalar(metrics, 'http.errors')} errors · generator ${scalar(metrics, 'generator.cpu')} cores`,
        ...table(metrics),
      ]);
    }

    const cfg = (rate: number): OpenLoopConfig => ({
      groups, rate, arrival: l.arrival, durationS: l.duration, warmupS: l.warmup, connection: l.connection,
      connections: l.connections, timeoutS: l.timeout, path: url.path, workers: args.workers,
    });

    if (args.findMaxRate) {
      const slo = parseMicros(/^\d+(\.\d+)?$/.test(args.slo) ? `${args.slo}us` : args.slo);
      if (slo === undefined) throw badInput(`--slo ${args.slo} is not a latency`, 'write it like 1ms or 500us');
      const res: MaxRateResult = await findMaxRate(
        async (rate) => {
          ctx.progress(`${head}trying ${Math.round(rate)} req/s`);
          return spawnOpenLoop(cfg(rate), where, ctx.signal);
        },
        { minRate: l.rate!, maxRate: args.maxRate, sloP99Us: slo, resolution: 0.05, maxSteps: 12 },
      );
      const metrics = maxRateMetrics(res);
      const lines = [
        `max rate with p99 ≤ ${formatMicros(slo)}: ${res.maxRate} req/s`,
        ...res.steps.map((s) => `  ${String(Math.round(s.rate)).padStart(7)} req/s  p99 ${formatMicros(s.p99Us).padStart(8)}  ${s.pass ? 'pass' : `fail: ${s.reasons.join('; ')}`}`),
      ];
      const reasons = res.generatorLimited ? [`the generator, not the server, set the limit: ${res.generatorLimited}`] : [];
      return output(args.url, 'max-rate', metrics, reasons, lines, { steps: res.steps });
    }

    if (l.rate === undefined) throw badInput('an open-loop load needs --rate', 'add --rate 1000, or use --closed for saturation');
    ctx.progress(`${head}open loop, ${l.rate} req/s ${l.arrival}, ${l.connection === 'new' ? 'new connection per request' : `keep-alive ×${l.connections}`}, ${l.duration} s (+${l.warmup} s warm-up)`);
    const r = await spawnOpenLoop(cfg(l.rate), where, ctx.signal);
    const metrics = openLoopMetrics(r);
    const reasons = selfCheck({ result: r, lagP99Us: decodeHistogram(r.scheduleLag).getValueAtPercentile(99) });
    return output(args.url, 'open', metrics, reasons, [
      `achieved ${scalar(metrics, 'http.achievedRps')} of ${l.rate} req/s · ${scalar(metrics, 'http.errors')} errors · generator ${scalar(metrics, 'generator.cpu')} cores, busy ${Math.round(scalar(metrics, 'generator.busy') * 100)}%, waited for CPU ${Math.round(scalar(metrics, 'generator.cpuWait') * 100)}%`,
      ...table(metrics),
    ]);
  },
};

/** Invalid numbers exit 3: the environment (a starved or saturated generator) spoiled them. */
function output(url: string, mode: string, metrics: Record<string, Metric>, reasons: string[], lines: string[], extra: Record<string, unknown> = {}) {
  const status = reasons.length ? 'invalid' : 'ok';
  return {
    exitCode: reasons.length ? ExitCode.environment : ExitCode.ok,
    json: { url, mode, status, reasons, metrics, ...extra },
    text: [...lines, reasons.length ? `INVALID: ${reasons.join('; ')}` : `valid: the generator ${mode === 'closed' ? 'was not the bottleneck' : 'kept its schedule'}`].join('\n'),
  };
}
