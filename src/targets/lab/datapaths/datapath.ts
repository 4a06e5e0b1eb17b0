import type { DatapathName } from '../../../scenario/schema.js';
import { exec } from '../../../util/exec.js';
import type { ServiceSpec } from '../addressing.js';

/**
 * What kube-proxy does after removing a UDP service: delete the conntrack entries DNATed for its
 * VIP. UDP has no close, so an entry lives on (30 s) and a client that reuses its source port
 * keeps reaching the old backend through rules that are gone. `conntrack -D` exits 1 when
 * nothing matched.
 */
export async function flushUdpConntrack(ctx: LabContext, svc: ServiceSpec): Promise<void> {
  if (svc.protocol !== 'udp') return;
  await exec(['conntrack', '-D', '-p', 'udp', '--orig-dst', svc.vip], { netns: ctx.nodeNs, allowFailure: true });
}

/** What a datapath needs to know about the lab it programs. */
export interface LabContext {
  id: string;
  /** node-a's namespace: where kube-proxy-style rules live. */
  nodeNs: string;
  clientNs: string;
  /** Per-run scratch directory (/run/dpbench/<id>), removed on teardown. */
  runDir: string;
  /** cgroup v2 directory the client pod's processes join (for socket-level eBPF). */
  clientCgroup: string;
  /** bpffs mount private to this lab. */
  bpffs: string;
  /** iptables backend to use: the `iptables-restore` flavour. */
  iptables: 'nft' | 'legacy';
}

export interface InstallInfo {
  /** Rules, map entries or virtual servers installed: the figure reports quote. */
  objects: number;
  seconds: number;
}

/**
 * One datapath implementation in the lab. Each is shaped like the real component so that its
 * cost scales the same way (see DESIGN.md).
 */
export interface Datapath {
  readonly name: DatapathName;
  /** null when the kernel and tools can run it; otherwise the reason it must be skipped. */
  unavailable(): Promise<string | null>;
  /** Bulk install of the background services (replacing whatever this datapath had). */
  install(services: readonly ServiceSpec[]): Promise<InstallInfo>;
  /** Incremental change, as the real component would make it (programming latency). */
  addService(svc: ServiceSpec): Promise<void>;
  removeService(svc: ServiceSpec): Promise<void>;
  /**
   * Total NAT/load-balancing decisions this datapath has made for service traffic since install:
   * read from rule counters or BPF maps, so a run can prove its traffic went through it.
   */
  decisions(): Promise<number>;
  /** Remove everything this datapath installed. Must be safe to call twice. */
  uninstall(): Promise<void>;
  /** e.g. "lab: kube-proxy-shaped iptables (iptables-nft v1.8.9), 40,002 rules". */
  describe(): string;
}

export type DatapathFactory = (ctx: LabContext) => Datapath;
