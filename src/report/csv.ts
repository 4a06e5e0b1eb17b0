import { stringify } from 'csv-stringify/sync';
import { isDistribution, type Run } from '../results/model.js';

/** One row per trial and metric: the shape spreadsheets and pandas read without help. */
export function trialsCsv(run: Run): string {
  const rows = run.trials.flatMap((t) =>
    Object.entries(t.metrics).map(([name, m]) => ({
      run: run.runId,
      trial: t.id,
      datapath: t.datapath,
      services: t.services,
      load: t.load.name,
      connection: t.load.connection,
      repeat: t.repeat,
      status: t.status,
      metric: name,
      unit: m.unit,
      value: isDistribution(m) ? '' : m.value,
      count: isDistribution(m) ? m.count : '',
      p50: isDistribution(m) ? m.p50 : '',
      p90: isDistribution(m) ? m.p90 : '',
      p99: isDistribution(m) ? m.p99 : '',
      p999: isDistribution(m) ? m.p999 : '',
      max: isDistribution(m) ? m.max : '',
    })),
  );
  return stringify(rows, {
    header: true,
    columns: ['run', 'trial', 'datapath', 'services', 'load', 'connection', 'repeat', 'status', 'metric', 'unit', 'value', 'count', 'p50', 'p90', 'p99', 'p999', 'max'],
  });
}
