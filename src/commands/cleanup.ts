import { ExitCode } from '../errors.js';
import { isAlive, listStates } from '../targets/lab/state.js';
import { labDown, strayNamespaces } from '../targets/lab/topology.js';
import { exec } from '../util/exec.js';
import type { CommandSpec } from './command.js';

export const cleanupCommand: CommandSpec<{ all: boolean }> = {
  command: 'cleanup',
  describe: 'Remove what killed runs left behind: labs whose owner is gone, stray dpb-* namespaces',
  examples: [
    ['$0 cleanup', 'remove orphaned labs (their owning process is gone)'],
    ['$0 cleanup --all', 'also remove labs whose owner is still running, e.g. from `lab up`'],
  ],
  builder: (y) => y.option('all', { type: 'boolean', default: false, describe: 'remove live labs too' }),
  async run(args) {
    const states = await listStates();
    const removed: string[] = [];
    for (const s of states) {
      if (!args.all && isAlive(s.ownerPid) && s.ownerPid !== process.pid) continue;
      removed.push(...(await labDown(s)));
    }
    for (const n of await strayNamespaces(await listStates())) {
      await exec(['ip', 'netns', 'del', n], { allowFailure: true });
      removed.push(`netns ${n}`);
    }
    return {
      exitCode: ExitCode.ok,
      json: { removed },
      text: removed.length ? removed.map((r) => `removed ${r}`).join('\n') : 'nothing to clean up',
    };
  },
};
