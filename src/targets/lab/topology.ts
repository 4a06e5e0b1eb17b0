import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, rmdir } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { environment } from '../../errors.js';
import { exec } from '../../util/exec.js';
import {
  CLIENT_IP,
  DNS_POD_IP,
  NODE_A_IP,
  NODE_A_POD_GW,
  NODE_B_IP,
  NODE_B_POD_GW,
  serverPodIp,
} from './addressing.js';
import { startEchoServer, waitForEchoServer } from './backends.js';
import type { LabContext } from './datapaths/datapath.js';
import { STATE_ROOT, isAlive, loadState, saveState, type LabState } from './state.js';

export interface LabOptions {
  id?: string;
  pods: number;
  iptables: 'auto' | 'nft' | 'legacy';
  generatorCpu?: number;
  serverCpu?: number;
  /** Add a DNS pod namespace on node-b (198.18.2.250) for the DNS probe; dns.ts starts dnsmasq in it. */
  dns?: boolean;
  onProgress?: (line: string) => void;
}

export interface Lab extends LabContext {
  nodeBNs: string;
  serverNs: string[];
  podIps: string[];
  /** CPU the load generator is pinned to, and the one the echo servers use (undefined: no pinning). */
  generatorCpu: number | undefined;
  serverCpu: number | undefined;
  /** The DNS pod's namespace, when the lab was built with `dns: true`. */
  dnsNs?: string;
  state: LabState;
}

export const NS_PREFIX = 'dpb-';
export const newLabId = () => randomBytes(3).toString('hex');

/**
 * `auto` picks iptables-legacy when it is installed. Both backends walk KUBE-SERVICES linearly per
 * new connection (nft at ~20-30 ns a rule, legacy at ~4 ns), but iptables-nft-restore (1.8.9,
 * Debian 12) is quadratic within one restore. Bulk installs are batched around that, but a
 * service added or removed later is a full sync in one restore, as kube-proxy's are: with nft at
 * 20k services that takes minutes, which programming probes cannot wait for. Scenarios about the
 * per-connection cost (quickstart, shootout) choose `nft`, as kube-proxy does on nft hosts.
 */
export async function resolveIptablesBackend(pref: LabOptions['iptables']): Promise<'nft' | 'legacy'> {
  if (pref !== 'auto') return pref;
  const r = await exec(['iptables-legacy-restore', '--version'], { allowFailure: true }).catch(() => undefined);
  return r && r.code === 0 ? 'legacy' : 'nft';
}

const sysctl = (netns: string, kv: Record<string, string | number>) =>
  exec(['sysctl', '-q', '-w', ...Object.entries(kv).map(([k, v]) => `${k}=${v}`)], { netns });

/**
 * A point-to-point pod link, the way Calico wires pods: the pod gets a /32 and a default route to
 * the node; the node's end of the veth carries the gateway address and a /32 route back. No bridge
 * is needed, and every pod hop is a real routed L3 hop through the node's netfilter hooks.
 */
async function wirePod(nodeNs: string, podNs: string, ifName: string, podIp: string, gw: string) {
  await exec(['ip', '-n', nodeNs, 'link', 'add', ifName, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', podNs]);
  await exec(['ip', '-n', podNs, 'addr', 'add', `${podIp}/32`, 'dev', 'eth0']);
  await exec(['ip', '-n', podNs, 'link', 'set', 'eth0', 'up']);
  await exec(['ip', '-n', podNs, 'route', 'add', `${gw}/32`, 'dev', 'eth0', 'scope', 'link']);
  await exec(['ip', '-n', podNs, 'route', 'add', 'default', 'via', gw, 'dev', 'eth0']);
  await exec(['ip', '-n', nodeNs, 'addr', 'add', `${gw}/32`, 'dev', ifName]);
  await exec(['ip', '-n', nodeNs, 'link', 'set', ifName, 'up']);
  await exec(['ip', '-n', nodeNs, 'route', 'add', `${podIp}/32`, 'dev', ifName, 'scope', 'link', 'src', gw]);
}

/**
 * Receive packet steering: packets node-a receives from the client pod are processed on `cpu`.
 * A veth delivers on the sending CPU, so without this the whole node-a datapath (conntrack, NAT,
 * a 20k-rule KUBE-SERVICES walk) runs inside the generator's connect() and write() calls, on the
 * generator's CPU, and shows up as schedule lag instead of latency. perf on the generator CPU at
 * 20k iptables services and 1,000 new conn/s: ipt_do_table 12.4% of it without, absent with.
 * On a real node the datapath runs on the client node's CPUs; here it runs with the servers.
 * `ip netns exec` mounts the namespace's own /sys, where its devices are.
 */
async function steerToCpu(netns: string, dev: string, cpu: number) {
  const mask = (1n << BigInt(cpu)).toString(16);
  await exec(['ip', 'netns', 'exec', netns, 'sh', '-c', `echo ${mask} > /sys/class/net/${dev}/queues/rx-0/rps_cpus`]);
}

function defaultCpus(opts: LabOptions): { generatorCpu: number | undefined; serverCpu: number | undefined } {
  const n = cpus().length;
  if (n < 2) return { generatorCpu: opts.generatorCpu, serverCpu: opts.serverCpu };
  return { generatorCpu: opts.generatorCpu ?? 0, serverCpu: opts.serverCpu ?? n - 1 };
}

/**
 * Builds the lab: client pod ─ node-a ═ node-b ─ server pods, all in namespaces with no link to
 * the host, addresses from 198.18.0.0/15. On any failure the partial lab is torn down before the
 * error propagates.
 */
export async function labUp(opts: LabOptions): Promise<Lab> {
  const id = opts.id ?? newLabId();
  const say = opts.onProgress ?? (() => {});
  const runDir = join(STATE_ROOT, id);
  const ns = (n: string) => `${NS_PREFIX}${id}-${n}`;
  const state: LabState = {
    id,
    createdAt: new Date().toISOString(),
    ownerPid: process.pid,
    runDir,
    namespaces: [],
    processes: [],
    mounts: [],
    cgroups: [],
  };
  const serverNs = Array.from({ length: opts.pods }, (_, i) => ns(`pod-${i}`));
  const { generatorCpu, serverCpu } = defaultCpus(opts);
  const lab: Lab = {
    id,
    nodeNs: ns('node-a'),
    nodeBNs: ns('node-b'),
    clientNs: ns('client'),
    serverNs,
    podIps: serverNs.map((_, i) => serverPodIp(i)),
    runDir,
    clientCgroup: join(runDir, 'cgroup2', `${NS_PREFIX}${id}-client`),
    bpffs: join(runDir, 'bpffs'),
    iptables: await resolveIptablesBackend(opts.iptables),
    generatorCpu,
    serverCpu,
    state,
  };
  if (opts.dns) lab.dnsNs = ns('dns');
  try {
    await saveState(state);
    say(`lab ${id}: namespaces`);
    for (const n of [lab.clientNs, lab.nodeNs, lab.nodeBNs, ...serverNs, ...(lab.dnsNs ? [lab.dnsNs] : [])]) {
      state.namespaces.push(n);
      await saveState(state);
      await exec(['ip', 'netns', 'add', n]);
      await exec(['ip', '-n', n, 'link', 'set', 'lo', 'up']);
    }
    // node-a ═ node-b
    await exec(['ip', '-n', lab.nodeNs, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', lab.nodeBNs]);
    await exec(['ip', '-n', lab.nodeNs, 'addr', 'add', `${NODE_A_IP}/24`, 'dev', 'eth0']);
    await exec(['ip', '-n', lab.nodeBNs, 'addr', 'add', `${NODE_B_IP}/24`, 'dev', 'eth0']);
    await exec(['ip', '-n', lab.nodeNs, 'link', 'set', 'eth0', 'up']);
    await exec(['ip', '-n', lab.nodeBNs, 'link', 'set', 'eth0', 'up']);
    await exec(['ip', '-n', lab.nodeNs, 'route', 'add', '198.18.2.0/24', 'via', NODE_B_IP]);
    await exec(['ip', '-n', lab.nodeBNs, 'route', 'add', '198.18.1.0/24', 'via', NODE_A_IP]);
    // A VIP that no datapath rule handles must fail fast (ICMP unreachable) rather than hang:
    // programming-latency probes tell "not programmed yet" from "programmed" by that.
    await exec(['ip', '-n', lab.nodeNs, 'route', 'add', 'unreachable', '198.19.0.0/16']);
    await wirePod(lab.nodeNs, lab.clientNs, 'veth-client', CLIENT_IP, NODE_A_POD_GW);
    for (let i = 0; i < serverNs.length; i++) {
      await wirePod(lab.nodeBNs, serverNs[i]!, `veth-pod${i}`, lab.podIps[i]!, NODE_B_POD_GW);
    }
    if (lab.dnsNs) await wirePod(lab.nodeBNs, lab.dnsNs, 'veth-dns', DNS_POD_IP, NODE_B_POD_GW);
    if (serverCpu !== undefined) await steerToCpu(lab.nodeNs, 'veth-client', serverCpu);
    for (const n of [lab.nodeNs, lab.nodeBNs]) {
      await sysctl(n, {
        'net.ipv4.ip_forward': 1,
        // TIME_WAIT entries would otherwise pile up in conntrack for 120 s at 5k+ new connections/s.
        'net.netfilter.nf_conntrack_tcp_timeout_time_wait': 10,
      });
    }
    // Programming-latency probes send a SYN to a not-yet-programmed VIP every ≤1 ms. Lift this
    // netns's ICMP limits so the unreachable route answers as often as the kernel lets it; its own
    // error limit (net.ipv4.route.error_cost/burst: about 5 then 4/s per source) is host-global and
    // stays, so probes must also time out attempts themselves. Unanswered SYNs leave conntrack
    // entries, kept 120 s by default; 5 s keeps the table small over a 20-change trial.
    await sysctl(lab.nodeNs, {
      'net.ipv4.icmp_ratelimit': 0,
      'net.ipv4.icmp_msgs_per_sec': 1_000_000,
      'net.ipv4.icmp_msgs_burst': 1_000_000,
      'net.netfilter.nf_conntrack_tcp_timeout_syn_sent': 5,
    });
    // 5k+ new connections per second need a wide port range on the client and deep accept
    // queues on the servers; these sysctls are per network namespace.
    await sysctl(lab.clientNs, {
      'net.ipv4.ip_local_port_range': '1024 65535',
      'net.ipv4.tcp_tw_reuse': 1,
      // One client IP opening thousands of connections per second to a few pods reuses 4-tuples the
      // pods still hold in TIME_WAIT. With per-destination random timestamp offsets (the default, 1),
      // a VIP connection's SYN carries the offset of the VIP, not the pod, so it looks older than the
      // TIME_WAIT it lands on: the pod rejects it (PAWS) and the client retransmits after 1 s.
      // Measured at 1,000 new conn/s with VIP and direct mixed: 1, 33, then 265 SYN retransmits in
      // three 7 s runs as TIME_WAIT built up; with monotonic timestamps (2), none. The artefact comes
      // from the lab's concentration, not from the datapath, and would put 1 s in every DNAT p99.
      'net.ipv4.tcp_timestamps': 2,
    });
    for (const n of serverNs) {
      await sysctl(n, { 'net.core.somaxconn': 65535, 'net.ipv4.tcp_max_syn_backlog': 65535, 'net.ipv4.tcp_tw_reuse': 1 });
    }

    say(`lab ${id}: cgroup2 + bpffs`);
    const cg = join(runDir, 'cgroup2');
    await mkdir(cg, { recursive: true });
    state.mounts.push(cg);
    await saveState(state);
    await exec(['mount', '-t', 'cgroup2', 'none', cg]);
    await mkdir(lab.bpffs, { recursive: true });
    state.mounts.push(lab.bpffs);
    await saveState(state);
    await exec(['mount', '-t', 'bpf', 'bpf', lab.bpffs]);
    state.cgroups.push(lab.clientCgroup);
    await saveState(state);
    await mkdir(lab.clientCgroup, { recursive: true });

    say(`lab ${id}: echo servers`);
    for (let i = 0; i < serverNs.length; i++) {
      const srv = await startEchoServer(serverNs[i]!, join(runDir, `pod-${i}`), serverCpu);
      state.processes.push({ pid: srv.pid, comm: 'nginx' });
      await saveState(state);
    }
    for (let i = 0; i < serverNs.length; i++) await waitForEchoServer(serverNs[i]!, lab.podIps[i]!);
    // The whole path, client → node-a → node-b → pod, must work before any datapath is added.
    for (const ip of lab.podIps) await waitForEchoServer(lab.clientNs, ip);
    return lab;
  } catch (e) {
    await labDown(state).catch(() => {});
    throw e;
  }
}

async function commOf(pid: number): Promise<string | undefined> {
  try {
    return (await readFile(`/proc/${pid}/comm`, 'utf8')).trim();
  } catch {
    return undefined;
  }
}

export async function stopProcess(pid: number, comm: string): Promise<boolean> {
  // A PID recorded by an earlier run may have been reused: only signal it if it is still ours.
  if ((await commOf(pid)) !== comm) return false;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return false;
  }
  for (let i = 0; i < 50 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 20));
  if (isAlive(pid) && (await commOf(pid)) === comm) process.kill(pid, 'SIGKILL');
  return true;
}

/** Removes everything a lab recorded in its state. Idempotent; returns what it removed. */
export async function labDown(target: Lab | LabState | string): Promise<string[]> {
  const state =
    typeof target === 'string'
      ? await loadState(join(STATE_ROOT, target))
      : 'state' in target
        ? target.state
        : target;
  if (!state) throw environment(`no lab with id ${String(target)}`, 'run `dpbench lab status` to list labs');
  const removed: string[] = [];
  for (const p of state.processes) if (await stopProcess(p.pid, p.comm)) removed.push(`process ${p.comm}(${p.pid})`);
  const existing = new Set((await exec(['ip', 'netns', 'list'])).stdout.split('\n').map((l) => l.split(' ')[0]));
  for (const n of [...state.namespaces].reverse()) {
    if (!existing.has(n)) continue;
    await exec(['ip', 'netns', 'del', n], { allowFailure: true });
    removed.push(`netns ${n}`);
  }
  for (const c of [...state.cgroups].reverse()) {
    // Processes leave a cgroup when they exit; rmdir fails while any remain, so retry briefly.
    for (let i = 0; i < 50; i++) {
      try {
        await rmdir(c);
        removed.push(`cgroup ${c}`);
        break;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') break;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }
  const mounted = await readFile('/proc/self/mounts', 'utf8');
  for (const m of [...state.mounts].reverse()) {
    if (!mounted.includes(` ${m} `)) continue;
    await exec(['umount', m], { allowFailure: true });
    removed.push(`mount ${m}`);
  }
  await rm(state.runDir, { recursive: true, force: true });
  return removed;
}

/** Namespaces named like ours that no state file accounts for (a run killed before saving state). */
export async function strayNamespaces(known: readonly LabState[]): Promise<string[]> {
  const owned = new Set(known.flatMap((s) => s.namespaces));
  const out = (await exec(['ip', 'netns', 'list'])).stdout;
  return out
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n.startsWith(NS_PREFIX) && !owned.has(n));
}
