/**
 * How long each lab datapath takes to program N services, how long one incremental add takes at
 * that size (programming latency), and how long reading its decision counter takes.
 *
 *   sudo npx tsx bench/datapaths-install.ts [sizes=1000,10000,40000] [endpoints=2]
 *
 * Prints one JSON line per measurement. Needs root; builds and removes its own lab.
 */
import { backgroundServices } from '../src/targets/lab/addressing.js';
import type { DatapathName } from '../src/scenario/schema.js';
import { createDatapath } from '../src/targets/lab/datapaths/registry.js';
import { labDown, labUp, type Lab } from '../src/targets/lab/topology.js';

const sizes = (process.argv[2] ?? '1000,10000,40000').split(',').map(Number);
const endpoints = Number(process.argv[3] ?? 2);
const variants: { name: DatapathName; iptables: 'nft' | 'legacy'; label: string }[] = [
  { name: 'iptables', iptables: 'nft', label: 'iptables (nft backend)' },
  { name: 'iptables', iptables: 'legacy', label: 'iptables (legacy backend)' },
  { name: 'nftables', iptables: 'nft', label: 'nftables' },
  { name: 'ebpf', iptables: 'nft', label: 'ebpf' },
];

const time = async <T>(f: () => Promise<T>): Promise<[T, number]> => {
  const t = process.hrtime.bigint();
  const v = await f();
  return [v, Number(process.hrtime.bigint() - t) / 1e9];
};

for (const v of variants) {
  let lab: Lab | undefined;
  try {
    lab = await labUp({ pods: 2, iptables: v.iptables });
    const dp = createDatapath(v.name, lab);
    const why = await dp.unavailable();
    if (why) {
      console.log(JSON.stringify({ datapath: v.label, skipped: why }));
      continue;
    }
    for (const n of sizes) {
      const all = backgroundServices(n + 1, endpoints, 2);
      const [info] = await time(() => dp.install(all.slice(0, n)));
      const [, addSeconds] = await time(() => dp.addService(all[n]!));
      const [, removeSeconds] = await time(() => dp.removeService(all[n]!));
      const [d, decisionsSeconds] = await time(() => dp.decisions());
      console.log(
        JSON.stringify({
          datapath: v.label,
          services: n,
          endpoints,
          objects: info.objects,
          installSeconds: +info.seconds.toFixed(3),
          addOneSeconds: +addSeconds.toFixed(3),
          removeOneSeconds: +removeSeconds.toFixed(3),
          decisionsSeconds: +decisionsSeconds.toFixed(3),
          decisions: d,
          describe: dp.describe(),
        }),
      );
    }
    await dp.uninstall();
  } finally {
    if (lab) await labDown(lab);
  }
}
