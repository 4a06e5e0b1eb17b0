import { ExitCode } from '../errors.js';
import { runDoctor } from '../doctor.js';
import type { CommandSpec } from './command.js';

export const doctorCommand: CommandSpec = {
  command: 'doctor',
  describe: 'Check the prerequisites of the lab (root, netns, iptables, nft, ipset, IP_VS, bpf, cgroup2, etcd, fio)',
  examples: [
    ['$0 doctor', 'table of prerequisites with the Debian package for each'],
    ['$0 doctor --json', 'the same as JSON'],
  ],
  builder: (y) => y,
  async run() {
    const checks = await runDoctor();
    const missing = checks.filter((c) => c.required && !c.ok);
    const w = Math.max(...checks.map((c) => c.name.length));
    const lines = checks.map((c) => `${c.ok ? 'pass' : c.required ? 'FAIL' : 'warn'}  ${c.name.padEnd(w)}  ${c.detail}${c.ok ? '' : `  [apt-get install ${c.package}]`}`);
    if (missing.length) lines.push('', `missing: ${missing.map((c) => c.name).join(', ')}`);
    return {
      exitCode: missing.length ? ExitCode.environment : ExitCode.ok,
      json: { ok: missing.length === 0, checks },
      text: lines.join('\n'),
    };
  },
};
