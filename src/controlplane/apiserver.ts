import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Pki } from './certs.js';
import { httpsGet } from './https-get.js';
import { startProcess, waitHealthy, type ManagedProcess } from './process.js';

export interface ApiServerOptions {
  binary: string;
  stateDir: string;
  pki: Pki;
  etcdEndpoint: string;
  port: number;
  /** Where the apiserver listens; loopback by default. */
  bindAddress: string;
  /**
   * Address written into the `kubernetes` Service's endpoints. It must not be loopback (the
   * apiserver refuses), so it is a lab address that nothing routes to.
   */
  advertiseAddress: string;
  serviceCidr: string;
  readyTimeoutMs?: number;
}

export interface ApiServer {
  url: string;
  process: ManagedProcess;
}

export function apiServerArgs(o: ApiServerOptions): string[] {
  return [
    `--etcd-servers=${o.etcdEndpoint}`,
    `--bind-address=${o.bindAddress}`,
    `--secure-port=${o.port}`,
    `--advertise-address=${o.advertiseAddress}`,
    `--cert-dir=${join(o.stateDir, 'apiserver-certs')}`,
    `--tls-cert-file=${o.pki.apiserver.cert}`,
    `--tls-private-key-file=${o.pki.apiserver.key}`,
    `--client-ca-file=${o.pki.ca.cert}`,
    `--service-account-key-file=${o.pki.serviceAccount.pub}`,
    `--service-account-signing-key-file=${o.pki.serviceAccount.key}`,
    '--service-account-issuer=https://kubernetes.default.svc',
    `--service-cluster-ip-range=${o.serviceCidr}`,
    '--authorization-mode=RBAC',
    '--allow-privileged=true',
    '--profiling=false',
    // No kubelets exist; never let the apiserver try to dial one.
    '--endpoint-reconciler-type=lease',
    '--v=1',
  ];
}

/** Starts kube-apiserver and resolves once `GET /readyz` answers 200 with the admin credentials. */
export async function startApiServer(o: ApiServerOptions): Promise<ApiServer> {
  await mkdir(join(o.stateDir, 'apiserver-certs'), { recursive: true });
  const proc = await startProcess({
    name: 'kube-apiserver',
    argv: [o.binary, ...apiServerArgs(o)],
    logFile: join(o.stateDir, 'kube-apiserver.log'),
  });
  const url = `https://${o.bindAddress}:${o.port}`;
  await waitHealthy(
    proc,
    async () => {
      const r = await httpsGet(`${url}/readyz`, { caFile: o.pki.ca.cert, client: o.pki.admin, timeoutMs: 3_000 });
      return r.status === 200 ? null : `/readyz ${r.status}: ${r.body.split('\n').filter((l) => l.includes('[-]')).join(' ') || r.body.slice(0, 200)}`;
    },
    o.readyTimeoutMs ?? 90_000,
  );
  return { url, process: proc };
}
