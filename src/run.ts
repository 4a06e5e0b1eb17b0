import { environment } from './errors.js';
import { interruptCommands } from './util/exec.js';
import { runDiskProbe } from './probes/disk.js';
import { hostFingerprint } from './probes/fingerprint.js';
import type { Run, TrialResult } from './results/model.js';
import { ResultStore, newRunId } from './results/store.js';
import { checkSlos, type SloFailure } from './report/slo.js';
import { writeReports } from './report/write.js';
import { planTrials, type Trial } from './scenario/plan.js';
import type { Scenario } from './scenario/schema.js';
import { LabTarget } from './targets/lab/lab-target.js';
import type { SwitchOutcome, Target } from './targets/target.js';

export interface RunOptions {
  outDir: string;
  scenarioFile?: string;
  signal?: AbortSignal;
  onProgress?: (line: string) => void;
}

export interface RunOutcome {
  run: Run;
  dir: string;
  runFile: string;
  summaryFile: string;
  csvFile: string;
  markdown: string;
  sloFailures: SloFailure[];
  interrupted: boolean;
  /** The lab id (or cluster context) the run used. */
  targetId: string | undefined;
}

function createTarget(s: Scenario, onProgress: (l: string) => void): Target {
  if (s.target === 'lab') return new LabTarget(s, onProgress);
  throw environment(
    'the cluster target is not available in this version',
    'use `target: lab` (the default); cluster support comes with the cluster-target issue',
  );
}

const groupKey = (t: Trial) => `${t.services}/${t.repeat}/${t.datapath}`;

/**
 * scenario → trials → target → results → reports. Teardown always runs; every finished trial is
 * already in run.json when the next one starts.
 */
export async function runScenario(s: Scenario, opts: RunOptions): Promise<RunOutcome> {
  const say = opts.onProgress ?? (() => {});
  const trials = planTrials(s);
  const target = createTarget(s, say);
  const store = await ResultStore.create(opts.outDir, {
    runId: newRunId(),
    scenario: s,
    scenarioFile: opts.scenarioFile,
    fingerprint: await hostFingerprint(),
  });
  say(`run ${store.current.runId}: ${trials.length} trials → ${store.file}`);
  let interrupted = false;
  const onAbort = () => {
    interrupted = true;
    interruptCommands();
  };
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    if (s.probes.disk) {
      // Host-level, once per run, before the lab exists so nothing else competes for the disk.
      say(`disk probe: fdatasync on ${s.probes.disk.dir}`);
      const d = await runDiskProbe(s.probes.disk, say, opts.signal);
      const { status, reason, metrics, ...details } = d;
      await store.setHostProbe('disk', { status, reason, metrics, details });
    }
    if (trials.length) await target.prepare();
    let sw: SwitchOutcome | undefined;
    let current = '';
    for (const [n, trial] of trials.entries()) {
      if (opts.signal?.aborted) {
        interrupted = true;
        break;
      }
      const startedAt = new Date().toISOString();
      if (groupKey(trial) !== current) {
        current = groupKey(trial);
        sw = await target.switchTo(trial.datapath, trial.services, trial.endpoints);
      }
      const base = { id: trial.id, datapath: trial.datapath, services: trial.services, endpoints: trial.endpoints, load: trial.load, repeat: trial.repeat };
      let result: TrialResult;
      if (sw!.status !== 'ok') {
        result = { ...base, status: sw!.status, reason: sw!.reason, implementation: sw!.implementation, startedAt, endedAt: startedAt, metrics: sw!.metrics };
      } else {
        const q = trial.load.search;
        const pace = q ? `max-rate search ${q.minRate}–${q.maxRate} req/s, up to ${q.maxSteps} steps of` : `${trial.load.rate ?? ''} req/s for`;
        say(`[${n + 1}/${trials.length}] ${trial.id}: ${trial.load.connection} ${pace} ${trial.load.duration}s`);
        const m = await target.measure(trial, opts.signal);
        result = {
          ...base,
          status: m.status,
          reason: m.reason,
          implementation: sw!.implementation,
          startedAt,
          endedAt: new Date().toISOString(),
          metrics: { ...sw!.metrics, ...m.metrics },
        };
        if (m.status === 'failed' && opts.signal?.aborted) interrupted = true;
      }
      await store.append(result);
      say(`[${n + 1}/${trials.length}] ${trial.id}: ${result.status}${result.reason ? ` (${result.reason})` : ''}`);
    }
  } catch (e) {
    // A command killed by Ctrl-C fails; that is the interruption, not an error to report.
    if (!interrupted) throw e;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    say('tearing down');
    await target.teardown();
  }
  const run = await store.finish();
  const { summary, csv, markdown } = await writeReports(run, store.dir);
  return {
    run,
    dir: store.dir,
    runFile: store.file,
    summaryFile: summary,
    csvFile: csv,
    markdown,
    sloFailures: checkSlos(run, s.slo),
    interrupted,
    targetId: target.id,
  };
}
