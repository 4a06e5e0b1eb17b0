import { readFile } from 'node:fs/promises';
import { cpus, hostname, release, totalmem } from 'node:os';
import type { Fingerprint } from '../results/model.js';
import { exec } from '../util/exec.js';

const firstLine = async (argv: string[]) => {
  const r = await exec(argv, { allowFailure: true }).catch(() => undefined);
  return r && r.code === 0 ? (r.stdout || r.stderr).trim().split('\n')[0]! : null;
};
const readTrim = (f: string) => readFile(f, 'utf8').then((s) => s.trim(), () => null);

/** Facts about the host that change what the numbers mean; every run.json carries them. */
export async function hostFingerprint(): Promise<Fingerprint> {
  const cpuinfo = (await readTrim('/proc/cpuinfo')) ?? '';
  return {
    hostname: hostname(),
    kernel: release(),
    cpuModel: cpus()[0]?.model ?? null,
    cpus: cpus().length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    hypervisor: /^flags\s*:.*\bhypervisor\b/m.test(cpuinfo) ? ((await readTrim('/sys/class/dmi/id/sys_vendor')) ?? 'yes') : 'none',
    node: process.version,
    iptables: await firstLine(['iptables', '--version']),
    nft: await firstLine(['nft', '--version']),
    clang: await firstLine(['clang', '--version']),
    bpftool: await firstLine(['bpftool', 'version']),
    nginx: await firstLine(['nginx', '-v']),
    os: (await readTrim('/etc/debian_version')) ? `Debian ${await readTrim('/etc/debian_version')}` : null,
    schedAutogroup: await readTrim('/proc/sys/kernel/sched_autogroup_enabled'),
    cpuGovernor: await readTrim('/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor'),
  };
}
