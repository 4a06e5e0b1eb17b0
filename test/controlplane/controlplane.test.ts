import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiException, CoreV1Api, DiscoveryV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { K8S_VERSION } from '../../src/controlplane/binaries.js';
import { startControlPlane, type ControlPlane } from '../../src/controlplane/controlplane.js';
import { httpsGet } from '../../src/controlplane/https-get.js';
import { exec } from '../../src/util/exec.js';

const clients = (kubeconfig: string) => {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  return { core: kc.makeApiClient(CoreV1Api), discovery: kc.makeApiClient(DiscoveryV1Api) };
};

const statusOf = async (p: Promise<unknown>): Promise<number> => {
  try {
    await p;
    return 200;
  } catch (e) {
    if (e instanceof ApiException) return e.code;
    throw e;
  }
};

describe('control plane (real etcd, kube-apiserver, kube-controller-manager)', () => {
  let cp: ControlPlane | undefined;
  const pids: number[] = [];

  beforeAll(async () => {
    cp = await startControlPlane({ onProcess: (p) => void pids.push(p.pid) });
  }, 240_000);

  afterAll(async () => {
    const dir = cp?.stateDir;
    await cp?.stop();
    await cp?.stop(); // idempotent
    for (const pid of pids) expect(existsSync(`/proc/${pid}`), `pid ${pid} still running`).toBe(false);
    if (dir) expect(existsSync(dir)).toBe(false);
  }, 60_000);

  it('pins the same version as scripts/k8s/go.mod', () => {
    const mod = readFileSync(join(import.meta.dirname, '../../scripts/k8s/go.mod'), 'utf8');
    expect(mod).toMatch(new RegExp(`^require k8s\\.io/kubernetes ${K8S_VERSION.replace(/\./g, '\\.')}$`, 'm'));
  });

  it('answers GET /readyz and reports the pinned version', async () => {
    const ready = await httpsGet(`${cp!.url}/readyz?verbose`, { caFile: cp!.pki.ca.cert, client: cp!.pki.admin });
    expect(ready.status).toBe(200);
    expect(ready.body).toContain('readyz check passed');
    const version = JSON.parse((await httpsGet(`${cp!.url}/version`, { caFile: cp!.pki.ca.cert, client: cp!.pki.admin })).body);
    expect(version.gitVersion).toBe(K8S_VERSION);
  });

  it('listens on loopback only', async () => {
    const ss = (await exec(['ss', '-Hltnp'])).stdout.split('\n');
    const ours = ss.filter((l) => pids.some((pid) => l.includes(`pid=${pid},`)));
    expect(ours.length).toBeGreaterThanOrEqual(3);
    for (const l of ours) expect(l.split(/\s+/)[3], l).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it('enforces authentication and RBAC', async () => {
    const anon = await httpsGet(`${cp!.url}/api/v1/namespaces`, { caFile: cp!.pki.ca.cert });
    expect(anon.status).toBe(403);
    const proxy = clients(await cp!.kubeconfigFor('rbac-proxy', cp!.pki.kubeProxy)).discovery;
    // system:node-proxier may read EndpointSlices but not write them.
    expect(await statusOf(proxy.listEndpointSliceForAllNamespaces())).toBe(200);
    expect(
      await statusOf(proxy.createNamespacedEndpointSlice({ namespace: 'default', body: { addressType: 'IPv4', endpoints: [], metadata: { name: 'x' } } })),
    ).toBe(403);
  });

  it('runs controllers and rejects stale writes', async () => {
    const { core } = clients(cp!.kubeconfig);
    await core.createNamespace({ body: { metadata: { name: 'cp-test' } } });
    // The serviceaccount controller (in kube-controller-manager) creates "default" in every namespace.
    const deadline = Date.now() + 30_000;
    let sa = 404;
    while (Date.now() < deadline && sa !== 200) {
      sa = await statusOf(core.readNamespacedServiceAccount({ name: 'default', namespace: 'cp-test' }));
      if (sa !== 200) await new Promise((r) => setTimeout(r, 250));
    }
    expect(sa).toBe(200);

    const svc = await core.createNamespacedService({
      namespace: 'cp-test',
      body: { metadata: { name: 'web' }, spec: { clusterIP: '198.19.1.0', ports: [{ port: 80, protocol: 'TCP' }] } },
    });
    expect(svc.spec?.clusterIP).toBe('198.19.1.0');
    const stale = { ...svc, metadata: { ...svc.metadata, resourceVersion: svc.metadata!.resourceVersion } };
    await core.replaceNamespacedService({ name: 'web', namespace: 'cp-test', body: { ...svc, metadata: { ...svc.metadata, labels: { a: '1' } } } });
    expect(await statusOf(core.replaceNamespacedService({ name: 'web', namespace: 'cp-test', body: stale }))).toBe(409);
    // A VIP outside the service CIDR is refused by the real allocator.
    expect(
      await statusOf(core.createNamespacedService({ namespace: 'cp-test', body: { metadata: { name: 'out' }, spec: { clusterIP: '10.0.0.10', ports: [{ port: 80 }] } } })),
    ).toBe(422);
  });
});
