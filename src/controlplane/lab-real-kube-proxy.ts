import { DpbenchError } from '../errors.js';
import { exec } from '../util/exec.js';
import type { Datapath, LabContext } from '../targets/lab/datapaths/datapath.js';
import type { RealKubeProxyMode } from '../scenario/schema.js';
import { componentBinary, k8sBinDir } from './binaries.js';
import { startControlPlane, type ControlPlane } from './controlplane.js';
import { createRealKubeProxyDatapath } from './real-kube-proxy-datapath.js';


export interface RealKubeProxyBackendOptions {
  /** Called with every process started (etcd, kube-apiserver, kube-proxy), to record it for `dpbench cleanup`. */
  onProcess?: (p: { pid: number; comm: string }) => void | Promise<void>;
  onProgress?: (line: string) => void;
  binDir?: string;
  /**
   * CPU to pin etcd, kube-apiserver and kube-proxy to (the lab's server CPU): in a cluster they
   * run on other machines or cores, and here they must not take the load generator's CPU, whose
   * schedule lag would otherwise invalidate the load trials. Their children (iptables-restore,
   * nft) inherit it.
   */
  cpu?: number;
  /** Where the control plane keeps its state (the lab's run dir, so `dpbench cleanup` removes it). */
  parentDir?: string;
}

/**
 * The control plane behind `kubeProxy: real` for one lab run: etcd and kube-apiserver on the
 * host's loopback, started once in prepare(); each iptables/nftables switch gets its own kube-proxy.
 */
export interface RealKubeProxyBackend {
  /** The datapath for `mode`; when unavailable, one whose unavailable() gives the reason (the trial is skipped). */
  datapath(lab: LabContext, mode: RealKubeProxyMode): Datapath;
  /** Stops the control plane. Idempotent. */
  stop(): Promise<void>;
}

const skipped = (mode: RealKubeProxyMode, reason: string): Datapath => ({
  name: mode,
  unavailable: async () => reason,
  install: async () => ({ objects: 0, seconds: 0 }),
  addService: async () => {},
  removeService: async () => {},
  decisions: async () => 0,
  uninstall: async () => {},
  describe: () => `lab: real kube-proxy ${mode} (not available)`,
});

/**
 * Starts the control plane, or reports why it cannot: a missing binary (or etcd) is an
 * ENVIRONMENT problem, which makes the affected trials `skipped` with the fix, never a failed
 * run. Anything else is a real failure and is thrown.
 */
export async function startRealKubeProxyBackend(o: RealKubeProxyBackendOptions = {}): Promise<RealKubeProxyBackend> {
  const binDir = o.binDir ?? k8sBinDir();
  const onProcess = async (p: { pid: number; comm: string }) => {
    await o.onProcess?.(p);
    if (o.cpu !== undefined) await exec(['taskset', '-a', '-p', '-c', String(o.cpu), String(p.pid)]);
  };
  let cp: ControlPlane | undefined;
  let unavailable: string | undefined;
  try {
    // Checked first so the reason names kube-proxy itself rather than whatever the start trips on.
    await componentBinary('kube-proxy', binDir);
    o.onProgress?.('kubeProxy: real: starting etcd and kube-apiserver');
    // kube-proxy needs only the API: no controller manager (the lab publishes its own EndpointSlices).
    cp = await startControlPlane({ binDir, controllerManager: false, onProcess, parentDir: o.parentDir });
  } catch (e) {
    if (!(e instanceof DpbenchError && e.code === 'ENVIRONMENT')) throw e;
    unavailable = `kubeProxy: real: ${e.message}: ${e.hint}`;
  }
  return {
    datapath: (lab, mode) =>
      cp ? createRealKubeProxyDatapath(lab, { cp, mode, binDir, onProcess }) : skipped(mode, unavailable!),
    stop: async () => {
      await cp?.stop();
    },
  };
}
