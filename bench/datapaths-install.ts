/**
 * How long each lab datapath takes to program N services, how long one incremental add takes at
 * that size (programming latency), and how long reading its decision counter takes.
 *
 *   sudo npx tsx bench/datapaths-install.ts [sizes=1000,10000,40000] [endpoints=2] [variants=ipt-nft,ipt-legacy,nftables,ebpf]
 *
 * Prints one JSON line per measurement. Needs root; builds and removes its own lab.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { backgroundServices } from '../src/targets/lab/addressing.js';
import type { DatapathName } from '../src/scenario/schema.js';
import { createDatapath } from '../src/targets/lab/datapaths/registry.js';
import { labDown, labUp, type Lab } from '../src/targets/lab/topology.js';

const sizes = (process.argv[2] ?? '1000,10000,40000').split(',').map(Number);
const endpoints = Number(process.argv[3] ?? 2);
const allVariants: { key: string; name: DatapathName; iptables: 'nft' | 'legacy'; label: string }[] = [
  { key: 'ipt-nft', name: 'iptables', iptables: 'nft', label: 'iptables (nft backend)' },
  { key: 'ipt-legacy', name: 'iptables', iptables: 'legacy', label: 'iptables (legacy backend)' },
  { key: 'nftables', name: 'nftables', iptables: 'nft', label: 'nftables' },
  { key: 'ebpf', name: 'ebpf', iptables: 'nft', label: 'ebpf' },
];
const wanted = (process.argv[4] ?? allVariants.map((v) => v.key).join(',')).split(',');
const variants = allVariants.filter((v) => wanted.includes(v.key));

let current: Lab | undefined;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    void (current ? labDown(current) : Promise.resolve()).finally(() => process.exit(130));
  });
}

/**
 * CPU seconds of reaped children (iptables-restore, nft, bpftool: user + system, including the
 * kernel work done in their syscalls). On a shared machine wall time includes waiting for a CPU;
 * this does not.
 */
function childCpuSeconds(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields 16 and 17 of /proc/<pid>/stat (cutime, cstime); f starts at field 3
  return (Number(f[13]) + Number(f[14])) / 100;
}

const time = async <T>(f: () => Promise<T>): Promise<[T, number, number]> => {
  const t = process.hrtime.bigint();
  const c = childCpuSeconds();
  const v = await f();
  return [v, Number(process.hrtime.bigint() - t) / 1e9, +(childCpuSeconds() - c).toFixed(2)];
};

for (const v of variants) {
  let lab: Lab | undefined;
  try {
    lab = await labUp({ pods: 2, iptables: v.iptables });
    current = lab;
    const dp = createDatapath(v.name, lab);
    const why = await dp.unavailable();
    if (why) {
      console.log(JSON.stringify({ datapath: v.label, skipped: why }));
      continue;
    }
    for (const n of sizes) {
      const all = backgroundServices(n + 1, endpoints, 2);
      const [info, , installCpu] = await time(() => dp.install(all.slice(0, n)));
      const [, addSeconds, addCpu] = await time(() => dp.addService(all[n]!));
      const [, removeSeconds, removeCpu] = await time(() => dp.removeService(all[n]!));
      const [d, decisionsSeconds, decisionsCpu] = await time(() => dp.decisions());
      console.log(
        JSON.stringify({
          datapath: v.label,
          services: n,
          endpoints,
          objects: info.objects,
          installSeconds: +info.seconds.toFixed(3),
          installToolCpu: installCpu,
          addOneSeconds: +addSeconds.toFixed(3),
          addOneToolCpu: addCpu,
          removeOneSeconds: +removeSeconds.toFixed(3),
          removeOneToolCpu: removeCpu,
          decisionsSeconds: +decisionsSeconds.toFixed(3),
          decisionsToolCpu: decisionsCpu,
          loadavg1m: +loadavg()[0]!.toFixed(1),
          decisions: d,
          describe: dp.describe(),
        }),
      );
    }
    await dp.uninstall();
  } finally {
    if (lab) await labDown(lab);
    current = undefined;
  }
}
