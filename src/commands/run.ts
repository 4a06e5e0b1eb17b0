import { resolve } from 'node:path';
import { ExitCode } from '../errors.js';
import { runScenario } from '../run.js';
import { loadScenario } from '../scenario/load.js';
import { planTrials, plannedSeconds } from '../scenario/plan.js';
import type { CommandSpec } from './command.js';

interface RunArgs {
  scenario: string;
  out: string;
}

export const runCommand: CommandSpec<RunArgs> = {
  command: 'run <scenario>',
  describe: 'Run a scenario: build the lab, switch datapaths, drive load, write run.json and a summary',
  examples: [
    ['$0 run scenarios/quickstart.yaml', 'all four datapaths at 100 and 10,000 services (about 3 minutes)'],
    ['$0 run scenarios/datapath-shootout.yaml --out /var/tmp/dpbench', 'write results to another folder'],
    ['$0 run scenarios/quickstart.yaml --json | jq .summaryFile', 'machine-readable outcome'],
  ],
  builder: (y) =>
    y
      .positional('scenario', { type: 'string', describe: 'scenario YAML file', demandOption: true })
      .option('out', { type: 'string', default: 'reports', describe: 'folder for <run-id>/run.json and reports' }),
  async run(args, ctx) {
    const file = resolve(ctx.cwd, args.scenario);
    const scenario = await loadScenario(file);
    const trials = planTrials(scenario);
    ctx.progress(`${scenario.name}: ${trials.length} trials, ~${Math.round(plannedSeconds(trials))} s of load plus datapath installs`);
    const o = await runScenario(scenario, { outDir: resolve(ctx.cwd, args.out), scenarioFile: file, signal: ctx.signal, onProgress: ctx.progress });
    const exitCode = o.interrupted ? ExitCode.environment : o.sloFailures.length ? ExitCode.sloFailed : ExitCode.ok;
    const counts = Object.fromEntries(['ok', 'invalid', 'skipped', 'failed'].map((s) => [s, o.run.trials.filter((t) => t.status === s).length]));
    const text = [
      o.markdown,
      ...o.sloFailures.map((f) => `SLO failed: ${f.message}`),
      o.interrupted ? 'interrupted: the trials above were finished before the signal; the lab was torn down.' : '',
      `run.json: ${o.runFile}`,
      `report:   ${o.summaryFile}`,
      `csv:      ${o.csvFile}`,
    ].filter(Boolean);
    return {
      exitCode,
      json: { runId: o.run.runId, runFile: o.runFile, summaryFile: o.summaryFile, csvFile: o.csvFile, trials: counts, sloFailures: o.sloFailures.map((f) => f.message), interrupted: o.interrupted },
      text: text.join('\n'),
    };
  },
};
