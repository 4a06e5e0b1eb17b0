import { ApiException, CoreV1Api, DiscoveryV1Api, KubeConfig, type V1EndpointSlice, type V1Service } from '@kubernetes/client-node';
import type { ServiceSpec } from '../targets/lab/addressing.js';

/** Every object dpbench creates carries this label, so cleanup is one label selector. */
export const RUN_LABEL = 'dpbench.io/run';
const MANAGED_BY = 'dpbench.io';

export interface LabNode {
  name: string;
  ip: string;
}

/**
 * The port name the lab's rule model hashes (`p<port>`): giving real Services the same name
 * lets real kube-proxy derive the very same chain names, so a comparison needs no guessing.
 */
export const portName = (svc: ServiceSpec): string => `p${svc.port}`;

export function serviceObject(svc: ServiceSpec, runId: string): V1Service {
  return {
    metadata: { name: svc.name, namespace: svc.namespace, labels: { [RUN_LABEL]: runId } },
    spec: {
      // No selector: the endpoints are the lab's pods, published as EndpointSlices below.
      clusterIP: svc.vip,
      ports: [{ name: portName(svc), port: svc.port, protocol: svc.protocol === 'tcp' ? 'TCP' : 'UDP' }],
    },
  };
}

export function endpointSliceObject(svc: ServiceSpec, runId: string, nodeOf: (ip: string) => string | undefined): V1EndpointSlice {
  return {
    metadata: {
      name: `${svc.name}-lab`,
      namespace: svc.namespace,
      // kube-proxy's network_programming_duration is measured from this annotation, which the
      // EndpointSlice controller sets for the slices it manages; ours must set it themselves.
      annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': new Date().toISOString() },
      labels: {
        [RUN_LABEL]: runId,
        'kubernetes.io/service-name': svc.name,
        'endpointslice.kubernetes.io/managed-by': MANAGED_BY,
      },
    },
    addressType: 'IPv4',
    endpoints: svc.endpoints.map((ep) => ({
      addresses: [ep.ip],
      conditions: { ready: true, serving: true, terminating: false },
      nodeName: nodeOf(ep.ip),
    })),
    ports: [{ name: portName(svc), port: svc.endpoints[0]?.port ?? svc.port, protocol: svc.protocol === 'tcp' ? 'TCP' : 'UDP' }],
  };
}

/** Runs `fn` over items with at most `limit` in flight: the apiserver's own max-in-flight is 400, we stay far below. */
async function eachLimited<T>(items: readonly T[], limit: number, fn: (t: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

const ignoreConflict = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (e) {
    if (!(e instanceof ApiException && e.code === 409)) throw e;
  }
};

export interface LabObjectsOptions {
  runId: string;
  nodes: readonly LabNode[];
  /** Which node hosts a pod IP (EndpointSlices carry it; kube-proxy uses it for topology). */
  nodeOf?: (ip: string) => string | undefined;
  concurrency?: number;
}

/** The API client side of the lab: Nodes, namespaces, Services and their EndpointSlices. */
export class LabObjects {
  private readonly core: CoreV1Api;
  private readonly discovery: DiscoveryV1Api;

  constructor(kc: KubeConfig, private readonly o: LabObjectsOptions) {
    this.core = kc.makeApiClient(CoreV1Api);
    this.discovery = kc.makeApiClient(DiscoveryV1Api);
  }

  /** Node objects: kube-proxy reads its node's IPs from one before it starts syncing. */
  async ensureNodes(): Promise<void> {
    for (const n of this.o.nodes) {
      await ignoreConflict(
        this.core.createNode({
          body: {
            metadata: { name: n.name, labels: { [RUN_LABEL]: this.o.runId, 'kubernetes.io/hostname': n.name } },
            status: { addresses: [{ type: 'InternalIP', address: n.ip }, { type: 'Hostname', address: n.name }] },
          },
        }),
      );
    }
  }

  /** Creates services (with their namespaces) and their EndpointSlices; returns when the API accepted them all. */
  async addServices(services: readonly ServiceSpec[]): Promise<void> {
    for (const ns of new Set(services.map((s) => s.namespace))) {
      await ignoreConflict(this.core.createNamespace({ body: { metadata: { name: ns, labels: { [RUN_LABEL]: this.o.runId } } } }));
    }
    const nodeOf = this.o.nodeOf ?? (() => undefined);
    await eachLimited(services, this.o.concurrency ?? 16, async (svc) => {
      await this.core.createNamespacedService({ namespace: svc.namespace, body: serviceObject(svc, this.o.runId) });
      await this.discovery.createNamespacedEndpointSlice({ namespace: svc.namespace, body: endpointSliceObject(svc, this.o.runId, nodeOf) });
    });
  }

  async removeServices(services: readonly ServiceSpec[]): Promise<void> {
    await eachLimited(services, this.o.concurrency ?? 16, async (svc) => {
      await this.core.deleteNamespacedService({ name: svc.name, namespace: svc.namespace });
      await this.discovery.deleteNamespacedEndpointSlice({ name: `${svc.name}-lab`, namespace: svc.namespace });
    });
  }
}
