import { readFile } from 'node:fs/promises';
import { exec, hasCommand } from './util/exec.js';

export interface Check {
  name: string;
  ok: boolean;
  /** Required checks make `doctor` (and the lab) fail; optional ones only limit what can run. */
  required: boolean;
  detail: string;
  /** Debian package that provides it. */
  package: string;
}

const run = (argv: string[]) => exec(argv, { allowFailure: true, timeoutMs: 10_000 }).catch(() => ({ code: 127, stdout: '', stderr: 'not found' }));
const firstLine = (s: string) => (s.trim().split('\n')[0] ?? '').slice(0, 70);

/** Each check runs in a throwaway network namespace (unshare -n), so the host's rules are only read, never touched. */
async function inNetns(argv: string[]): Promise<{ ok: boolean; detail: string }> {
  const r = await run(['unshare', '-n', ...argv]);
  return { ok: r.code === 0, detail: r.code === 0 ? 'works in a fresh network namespace' : firstLine(r.stderr) || `exit ${r.code}` };
}

export async function runDoctor(): Promise<Check[]> {
  const checks: Check[] = [];
  const add = (c: Check) => checks.push(c);
  const isRoot = process.getuid?.() === 0;
  add({ name: 'root', ok: isRoot, required: true, detail: isRoot ? 'uid 0' : 'run as root (the lab creates namespaces and programs netfilter)', package: '-' });

  const netns = await run(['ip', 'netns', 'list']);
  add({ name: 'netns (iproute2)', ok: netns.code === 0, required: true, detail: netns.code === 0 ? 'ip netns works' : firstLine(netns.stderr), package: 'iproute2' });

  const ipt = await inNetns(['iptables-restore', '--version']);
  const iptNat = ipt.ok ? await inNetns(['iptables', '-t', 'nat', '-S']) : ipt;
  const iptV = await run(['iptables', '--version']);
  add({ name: 'iptables', ok: iptNat.ok, required: false, detail: iptNat.ok ? firstLine(iptV.stdout) : iptNat.detail, package: 'iptables' });

  const nft = await inNetns(['nft', 'list', 'ruleset']);
  const nftV = await run(['nft', '--version']);
  add({ name: 'nftables', ok: nft.ok, required: false, detail: nft.ok ? firstLine(nftV.stdout) : nft.detail, package: 'nftables' });

  const ipset = await inNetns(['ipset', 'list']);
  add({ name: 'ipset', ok: ipset.ok, required: false, detail: ipset.detail, package: 'ipset' });

  const ipvsProc = await readFile('/proc/net/ip_vs', 'utf8').then(() => true, () => false);
  const ipvsadm = await hasCommand('ipvsadm');
  add({
    name: 'IP_VS (kernel)',
    ok: ipvsProc,
    required: false,
    detail: ipvsProc ? 'kernel has IP_VS' : 'kernel has no IP_VS: ipvs trials are skipped (CONFIG_IP_VS not set or module not loaded)',
    package: 'linux-image (module ip_vs)',
  });
  add({ name: 'ipvsadm', ok: ipvsadm, required: false, detail: ipvsadm ? 'present' : 'missing', package: 'ipvsadm' });

  const bpf = await readFile('/proc/sys/kernel/unprivileged_bpf_disabled', 'utf8').then(() => true, () => false);
  add({ name: 'bpf syscall', ok: bpf, required: false, detail: bpf ? 'present' : 'kernel lacks CONFIG_BPF_SYSCALL', package: 'linux-image' });
  const clang = await run(['clang', '--version']);
  add({ name: 'clang', ok: clang.code === 0, required: false, detail: clang.code === 0 ? firstLine(clang.stdout) : 'missing', package: 'clang llvm libbpf-dev' });
  const bpftool = await run(['bpftool', 'version']);
  add({ name: 'bpftool', ok: bpftool.code === 0, required: false, detail: bpftool.code === 0 ? firstLine(bpftool.stdout) : 'missing', package: 'bpftool' });
  const fs = await readFile('/proc/filesystems', 'utf8').catch(() => '');
  add({ name: 'cgroup2', ok: /\scgroup2$/m.test(fs), required: false, detail: /\scgroup2$/m.test(fs) ? 'cgroup2 filesystem available' : 'kernel lacks cgroup2', package: 'linux-image' });

  for (const [name, argv, pkg, required] of [
    ['nginx (echo backend)', ['nginx', '-v'], 'nginx-light', true],
    ['curl', ['curl', '--version'], 'curl', true],
    ['taskset', ['taskset', '--version'], 'util-linux', true],
    ['etcd', ['etcd', '--version'], 'etcd-server', false],
    ['etcdctl', ['etcdctl', 'version'], 'etcd-client', false],
    ['fio', ['fio', '--version'], 'fio', false],
  ] as const) {
    const r = await run([...argv]);
    add({ name, ok: r.code === 0, required, detail: r.code === 0 ? firstLine(r.stdout || r.stderr) : 'missing', package: pkg });
  }
  return checks;
}
