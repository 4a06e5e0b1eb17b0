import { hasResolutionProbes, PROBES_LOAD_NAME, type DatapathName, type LoadProfile, type ProbesOptions, type Scenario } from './schema.js';

export interface Trial {
  id: string;
  datapath: DatapathName;
  services: number;
  endpoints: number;
  load: LoadProfile;
  repeat: number;
}

/**
 * datapath × services × load × repeat. Ordered repeat → services → datapath → load, so the
 * datapaths take turns within each service count (ABCABC, not AABBCC) and the service counts take
 * turns within each repetition: slow drift of the machine then spreads over all datapaths and
 * counts instead of reading as scaling. (With services outermost, a shootout measured every 1k
 * trial minutes before every 20k one, and a ~100 µs drift of the lab's base latency in between
 * showed up as nftables and ebpf getting 33% faster with 20x the services.) A datapath is
 * reinstalled per repetition either way, so this order costs no extra installs.
 */
export function planTrials(s: Scenario): Trial[] {
  const out: Trial[] = [];
  const probes = hasResolutionProbes(s.probes) ? probesProfile(s.probes) : undefined;
  for (let repeat = 1; repeat <= s.repeat; repeat++) {
    for (const services of s.services.counts) {
      for (const datapath of s.datapaths) {
        for (const load of s.loads) {
          out.push({
            id: `${datapath}-${services}-${load.name}-r${repeat}`,
            datapath,
            services,
            endpoints: s.services.endpoints,
            load,
            repeat,
          });
        }
        if (probes) {
          out.push({ id: `${datapath}-${services}-${PROBES_LOAD_NAME}-r${repeat}`, datapath, services, endpoints: s.services.endpoints, load: probes, repeat });
        }
      }
    }
  }
  return out;
}

/**
 * Probe trials carry a load profile too (run.json keeps one shape per trial): new connections,
 * one at a time, at the connect probe's pace; the duration is an estimate of the probes' wall
 * time (programming latency depends on the datapath, so it counts 1 s per change).
 */
export function probesProfile(p: ProbesOptions): LoadProfile {
  const gap = p.connect?.gap ?? p.dns?.gap ?? 0.001;
  let seconds = 0;
  if (p.connect) seconds += 3 * (p.connect.samples + p.connect.warmup) * (p.connect.gap + 0.0003);
  if (p.dns) seconds += 2 * (p.dns.samples + p.dns.warmup) * (p.dns.gap + 0.001);
  if (p.programming) seconds += p.programming.changes;
  return {
    name: PROBES_LOAD_NAME,
    mode: 'open',
    rate: Math.max(1, Math.round(1 / gap)),
    arrival: 'constant',
    duration: Math.max(1, Math.round(seconds)),
    warmup: 0,
    connections: 1,
    connection: 'new',
    pipelining: 1,
    timeout: p.connect?.timeout ?? p.dns?.timeout ?? 1,
  };
}

/**
 * Rough wall time of a plan (load time only), shown before a run starts: an upper bound, since a
 * max-rate search may run up to maxSteps full steps.
 */
export const plannedSeconds = (trials: readonly Trial[]) =>
  trials.reduce((s, t) => s + (t.load.warmup + t.load.duration) * (t.load.search?.maxSteps ?? 1), 0);
