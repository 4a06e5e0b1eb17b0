import { resolve } from 'node:path';
import { ExitCode } from '../errors.js';
import { loadScenario } from '../scenario/load.js';
import { planTrials, plannedSeconds } from '../scenario/plan.js';
import type { CommandSpec } from './command.js';

export const validateCommand: CommandSpec<{ scenario: string }> = {
  command: 'validate <scenario>',
  describe: 'Check a scenario file and show the trials it plans, without touching the system',
  examples: [
    ['$0 validate scenarios/quickstart.yaml', 'prints the plan or every problem as file:line:col'],
  ],
  builder: (y) => y.positional('scenario', { type: 'string', describe: 'scenario YAML file', demandOption: true }),
  async run(args, ctx) {
    const s = await loadScenario(resolve(ctx.cwd, args.scenario));
    const trials = planTrials(s);
    return {
      exitCode: ExitCode.ok,
      json: { valid: true, scenario: s, trials: trials.map((t) => t.id) },
      text: [
        `${args.scenario}: valid. ${trials.length} trials (${s.datapaths.length} datapaths × ${s.services.counts.length} service counts × ${s.loads.length} loads × ${s.repeat} repeats), ~${Math.round(plannedSeconds(trials))} s of load.`,
        ...trials.map((t) => `  ${t.id}`),
      ].join('\n'),
    };
  },
};
