import type { DatapathName, LoadProfile, Scenario } from './schema.js';

export interface Trial {
  id: string;
  datapath: DatapathName;
  services: number;
  endpoints: number;
  load: LoadProfile;
  repeat: number;
}

/**
 * datapath × services × load × repeat. Ordered services → repeat → datapath → load, so the
 * datapaths take turns within each repetition (ABCABC, not AABBCC): slow drift of the machine
 * then spreads over all datapaths instead of biasing one.
 */
export function planTrials(s: Scenario): Trial[] {
  const out: Trial[] = [];
  for (const services of s.services.counts) {
    for (let repeat = 1; repeat <= s.repeat; repeat++) {
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
      }
    }
  }
  return out;
}

/** Rough wall time of a plan (load time only), shown before a run starts. */
export const plannedSeconds = (trials: readonly Trial[]) =>
  trials.reduce((s, t) => s + t.load.warmup + t.load.duration, 0);
