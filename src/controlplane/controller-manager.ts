import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Pki } from './certs.js';
import { httpsGet } from './https-get.js';
import { startProcess, waitHealthy, type ManagedProcess } from './process.js';

export interface ControllerManagerOptions {
  binary: string;
  stateDir: string;
  pki: Pki;
  /** kubeconfig with the system:kube-controller-manager identity. */
  kubeconfig: string;
  port: number;
  serviceCidr: string;
  readyTimeoutMs?: number;
}

export function controllerManagerArgs(o: ControllerManagerOptions): string[] {
  return [
    `--kubeconfig=${o.kubeconfig}`,
    `--authentication-kubeconfig=${o.kubeconfig}`,
    `--authorization-kubeconfig=${o.kubeconfig}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${o.port}`,
    `--cert-dir=${join(o.stateDir, 'controller-manager-certs')}`,
    // One instance, owned by this run: a leader election would only add a lease round-trip.
    '--leader-elect=false',
    '--use-service-account-credentials=true',
    `--service-account-private-key-file=${o.pki.serviceAccount.key}`,
    `--root-ca-file=${o.pki.ca.cert}`,
    `--service-cluster-ip-range=${o.serviceCidr}`,
    // Pod CIDRs are the lab's business, not the controller's.
    '--allocate-node-cidrs=false',
    '--profiling=false',
    '--v=1',
  ];
}

/** Starts kube-controller-manager and resolves once its /healthz answers 200. */
export async function startControllerManager(o: ControllerManagerOptions): Promise<ManagedProcess> {
  await mkdir(join(o.stateDir, 'controller-manager-certs'), { recursive: true });
  const proc = await startProcess({
    name: 'kube-controller-manager',
    argv: [o.binary, ...controllerManagerArgs(o)],
    logFile: join(o.stateDir, 'kube-controller-manager.log'),
  });
  await waitHealthy(
    proc,
    async () => {
      // /healthz is on the always-allow list and the serving cert is self-signed in cert-dir:
      // this is a loopback liveness probe of a process we started, not an authenticated call.
      const r = await httpsGet(`https://127.0.0.1:${o.port}/healthz`, { timeoutMs: 3_000 });
      return r.status === 200 ? null : `/healthz ${r.status}: ${r.body.slice(0, 200)}`;
    },
    o.readyTimeoutMs ?? 60_000,
  );
  return proc;
}
