import { ExitCode } from '../errors.js';
import { listStates, isAlive } from '../targets/lab/state.js';
import { labDown, labUp } from '../targets/lab/topology.js';
import { exec } from '../util/exec.js';
import type { CommandSpec } from './command.js';

interface LabArgs {
  action: 'up' | 'down' | 'status';
  id?: string;
  pods: number;
}

export const labCommand: CommandSpec<LabArgs> = {
  command: 'lab <action> [id]',
  describe: 'Build, inspect or remove the built-in lab (isolated namespaces, 198.18.0.0/15)',
  examples: [
    ['$0 lab up', 'build a lab and leave it running (prints its id)'],
    ['$0 lab status', 'list labs, their namespaces and whether their owner is alive'],
    ['$0 lab down 3fa9c1', 'remove one lab'],
    ['$0 lab down', 'remove every lab recorded in /run/dpbench'],
  ],
  builder: (y) =>
    y
      .positional('action', { choices: ['up', 'down', 'status'] as const, demandOption: true })
      .positional('id', { type: 'string', describe: 'lab id (default: all, for down)' })
      .option('pods', { type: 'number', default: 2, describe: 'echo server pods (lab up)' }),
  async run(args, ctx) {
    if (args.action === 'up') {
      const lab = await labUp({ id: args.id, pods: args.pods, iptables: 'auto', onProgress: ctx.progress });
      // Ownership passes to the state file: `lab down` removes it later.
      return {
        exitCode: ExitCode.ok,
        json: { id: lab.id, namespaces: lab.state.namespaces, runDir: lab.runDir },
        text: `lab ${lab.id} is up: ${lab.state.namespaces.join(' ')}\nremove it with: dpbench lab down ${lab.id}`,
      };
    }
    const states = await listStates();
    if (args.action === 'down') {
      const chosen = args.id ? states.filter((s) => s.id === args.id) : states;
      if (args.id && chosen.length === 0) {
        return { exitCode: ExitCode.badInput, json: { removed: [] }, text: `no lab ${args.id} (see \`dpbench lab status\`)` };
      }
      const removed: Record<string, string[]> = {};
      for (const s of chosen) removed[s.id] = await labDown(s);
      return {
        exitCode: ExitCode.ok,
        json: { removed },
        text: chosen.length ? Object.entries(removed).map(([id, r]) => `lab ${id}: removed ${r.length} objects`).join('\n') : 'no labs',
      };
    }
    const live = new Set((await exec(['ip', 'netns', 'list'])).stdout.split('\n').map((l) => l.split(' ')[0]));
    const labs = states.map((s) => ({
      id: s.id,
      createdAt: s.createdAt,
      owner: isAlive(s.ownerPid) ? `pid ${s.ownerPid}` : 'gone',
      namespaces: s.namespaces.filter((n) => live.has(n)),
    }));
    return {
      exitCode: ExitCode.ok,
      json: { labs },
      text: labs.length
        ? labs.map((l) => `${l.id}  created ${l.createdAt}  owner ${l.owner}  ${l.namespaces.length} namespaces`).join('\n')
        : 'no labs',
    };
  },
};
