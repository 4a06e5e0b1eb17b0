import { KubeConfig } from '@kubernetes/client-node';
import { CLUSTER_POD_CIDR, NODE_A_IP, NODE_B_IP } from '../targets/lab/addressing.js';
import type { LabContext } from '../targets/lab/datapaths/datapath.js';
import { componentBinary, k8sBinDir } from './binaries.js';
import type { ControlPlane } from './controlplane.js';
import { startKubeProxy, kubeProxyCleanup, type KubeProxy, type KubeProxyMode } from './kube-proxy.js';
import { LabObjects } from './lab-objects.js';
import { startNetnsRelay, type NetnsRelay } from './netns-relay.js';

export interface LabKubeProxyOptions {
  cp: ControlPlane;
  lab: Pick<LabContext, 'id' | 'nodeNs' | 'iptables'>;
  mode: KubeProxyMode;
  binDir?: string;
  minSyncPeriod?: string;
}

export interface LabKubeProxy {
  proxy: KubeProxy;
  /** The relay process inside node-a that carries kube-proxy's API traffic. */
  relay: NetnsRelay;
  /** Admin client for the lab's Nodes, Services and EndpointSlices. */
  objects: LabObjects;
  /** Stops kube-proxy, removes its rules with `kube-proxy --cleanup`, closes the relay. Idempotent. */
  stop(): Promise<void>;
}

/** The lab's nodes as the apiserver sees them; node-a runs kube-proxy, node-b hosts the pods. */
export const LAB_NODES = [
  { name: 'node-a', ip: NODE_A_IP },
  { name: 'node-b', ip: NODE_B_IP },
] as const;

/** Port the relay listens on inside node-a (its own loopback; the host's ports are not involved). */
const RELAY_PORT = 6443;

/**
 * Real kube-proxy programming the lab's node-a through the real apiserver: the Node objects are
 * created, a relay carries kube-proxy's API traffic out of the namespace over a unix socket, and
 * kube-proxy runs in `mode` until stop().
 */
export async function startLabKubeProxy(o: LabKubeProxyOptions): Promise<LabKubeProxy> {
  const binary = await componentBinary('kube-proxy', o.binDir ?? k8sBinDir());
  const kc = new KubeConfig();
  kc.loadFromFile(o.cp.kubeconfig);
  const objects = new LabObjects(kc, {
    runId: o.lab.id,
    nodes: LAB_NODES,
    // Pods on node-a are 198.18.1.0/24, on node-b 198.18.2.0/24 (addressing.ts).
    nodeOf: (ip) => (ip.startsWith('198.18.1.') ? 'node-a' : ip.startsWith('198.18.2.') ? 'node-b' : undefined),
  });
  await objects.ensureNodes();

  const port = Number(new URL(o.cp.url).port);
  let relay: NetnsRelay | undefined;
  let proxy: KubeProxy | undefined;
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await proxy?.stop();
      await kubeProxyCleanup(binary, o.lab.nodeNs, o.lab.iptables, o.cp.stateDir);
      await relay?.stop();
    })());
  try {
    relay = await startNetnsRelay({ netns: o.lab.nodeNs, targetPort: port, listenPort: RELAY_PORT, stateDir: o.cp.stateDir });
    const kubeconfig = await o.cp.kubeconfigFor(`kube-proxy-${o.lab.id}`, o.cp.pki.kubeProxy, relay.address);
    proxy = await startKubeProxy({
      binary,
      netns: o.lab.nodeNs,
      nodeName: 'node-a',
      kubeconfig,
      mode: o.mode,
      iptables: o.lab.iptables,
      clusterCidr: CLUSTER_POD_CIDR,
      stateDir: o.cp.stateDir,
      minSyncPeriod: o.minSyncPeriod,
    });
    return { proxy, relay, objects, stop };
  } catch (e) {
    await stop().catch(() => {});
    throw e;
  }
}
