import { isDistribution, type Run } from '../results/model.js';
import type { Slo } from '../scenario/schema.js';

export interface SloFailure {
  trial: string;
  slo: Slo;
  actual: number;
  message: string;
}

/** Checks every valid trial against the scenario's SLOs. Invalid trials prove nothing either way. */
export function checkSlos(run: Run, slos: readonly Slo[]): SloFailure[] {
  const out: SloFailure[] = [];
  for (const t of run.trials) {
    if (t.status !== 'ok') continue;
    for (const slo of slos) {
      const m = t.metrics[slo.metric];
      if (!m) continue;
      const actual = isDistribution(m) ? (slo.stat === 'value' ? m.p50 : m[slo.stat]) : m.value;
      const bound = slo.max !== undefined && actual > slo.max ? `> max ${slo.max}` : slo.min !== undefined && actual < slo.min ? `< min ${slo.min}` : '';
      if (bound) out.push({ trial: t.id, slo, actual, message: `${t.id}: ${slo.metric} ${slo.stat} = ${actual} ${m.unit} ${bound}` });
    }
  }
  return out;
}
