import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { exec } from '../util/exec.js';
import { startProcess, waitHealthy, type ManagedProcess } from './process.js';

export type KubeProxyMode = 'iptables' | 'nftables' | 'ipvs';

export interface KubeProxyOptions {
  binary: string;
  /** The lab node namespace whose kernel kube-proxy programs. */
  netns: string;
  /** Must match a Node object (kube-proxy reads its IPs from it). */
  nodeName: string;
  /** kubeconfig with the system:kube-proxy identity, pointing at an address reachable from `netns`. */
  kubeconfig: string;
  mode: KubeProxyMode;
  /** Which iptables flavour kube-proxy finds on PATH: the lab's, so both write the same backend. */
  iptables: 'nft' | 'legacy';
  clusterCidr: string;
  stateDir: string;
  /** Ports inside `netns` (its own loopback), so they never clash with the host. */
  metricsPort?: number;
  healthzPort?: number;
  /** kube-proxy's minSyncPeriod; its default (1s) batches changes, which is part of what it costs. */
  minSyncPeriod?: string;
  readyTimeoutMs?: number;
}

export interface KubeProxy {
  process: ManagedProcess;
  mode: KubeProxyMode;
  /** Prometheus text from kube-proxy's own /metrics, read inside the namespace. */
  metrics(): Promise<string>;
  stop(): Promise<void>;
}

/** The KubeProxyConfiguration kube-proxy reads with --config. */
export function kubeProxyConfig(o: KubeProxyOptions): Record<string, unknown> {
  const sync = { minSyncPeriod: o.minSyncPeriod ?? '1s', syncPeriod: '30s' };
  return {
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    clientConnection: { kubeconfig: o.kubeconfig, qps: 50, burst: 100 },
    hostnameOverride: o.nodeName,
    mode: o.mode,
    clusterCIDR: o.clusterCidr,
    detectLocalMode: 'ClusterCIDR',
    metricsBindAddress: `127.0.0.1:${o.metricsPort ?? 10249}`,
    healthzBindAddress: `127.0.0.1:${o.healthzPort ?? 10256}`,
    // nf_conntrack_max and the hash size are global to the machine, not per namespace: leave
    // them alone (0 = do not touch) so a lab never changes the host.
    conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' },
    // localhostNodePorts stays at its default (true): kube-proxy then sets route_localnet, a
    // per-namespace sysctl, and writes the same KUBE-NODEPORTS jump as a default install.
    iptables: { masqueradeAll: false, masqueradeBit: 14, ...sync },
    nftables: { masqueradeAll: false, masqueradeBit: 14, ...sync },
    ipvs: { scheduler: 'rr', strictARP: true, ...sync },
  };
}

const IPTABLES_TOOLS = ['iptables', 'iptables-save', 'iptables-restore', 'ip6tables', 'ip6tables-save', 'ip6tables-restore'];
const DEFAULT_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';

/** A directory whose iptables* symlinks point at one flavour; put first on kube-proxy's PATH. */
async function pinIptables(stateDir: string, flavour: 'nft' | 'legacy'): Promise<string> {
  const bin = join(stateDir, `iptables-${flavour}-bin`);
  await mkdir(bin, { recursive: true });
  for (const t of IPTABLES_TOOLS) {
    await symlink(`/usr/sbin/${t.replace(/^(ip6?tables)/, `$1-${flavour}`)}`, join(bin, t)).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'EEXIST') throw e;
    });
  }
  return bin;
}

/**
 * Runs the real kube-proxy inside a lab node namespace. Its iptables tools are pinned through a
 * PATH directory of symlinks, the way the official image's iptables-wrapper pins them, so it
 * writes to the same backend the lab reads.
 */
export async function startKubeProxy(o: KubeProxyOptions): Promise<KubeProxy> {
  const dir = join(o.stateDir, `kube-proxy-${o.nodeName}-${o.mode}`);
  await mkdir(dir, { recursive: true });
  const bin = await pinIptables(o.stateDir, o.iptables);
  const config = join(dir, 'config.yaml');
  await writeFile(config, stringify(kubeProxyConfig(o)));
  const metricsPort = o.metricsPort ?? 10249;
  const proc = await startProcess({
    name: `kube-proxy (${o.mode})`,
    argv: [o.binary, `--config=${config}`, '--v=2'],
    netns: o.netns,
    logFile: join(dir, 'kube-proxy.log'),
    env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? DEFAULT_PATH}` },
  });
  const metrics = async () =>
    (await exec(['curl', '-sf', '--max-time', '5', `http://127.0.0.1:${metricsPort}/metrics`], { netns: o.netns })).stdout;
  // /healthz turns 200 only after the first full sync has written the rules.
  await waitHealthy(
    proc,
    async () => {
      const r = await exec(['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '3',
        `http://127.0.0.1:${o.healthzPort ?? 10256}/healthz`], { netns: o.netns, allowFailure: true });
      return r.stdout === '200' ? null : `/healthz ${r.stdout || r.stderr.trim()}`;
    },
    o.readyTimeoutMs ?? 60_000,
  );
  return { process: proc, mode: o.mode, metrics, stop: () => proc.stop() };
}

/**
 * `kube-proxy --cleanup`: the official way to remove everything kube-proxy wrote (iptables,
 * nftables and ipvs), run in the namespace so it only touches the lab node.
 */
export async function kubeProxyCleanup(binary: string, netns: string, iptables: 'nft' | 'legacy', stateDir: string): Promise<void> {
  const bin = await pinIptables(stateDir, iptables);
  // Cleanup exits non-zero when some mode had nothing to remove; what is left is checked by the caller.
  await exec(['env', `PATH=${bin}:${process.env.PATH ?? DEFAULT_PATH}`, binary, '--cleanup', '--v=0'], {
    netns,
    allowFailure: true,
    timeoutMs: 60_000,
  });
}
