import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeLoopbackPort, startEtcd, type EtcdServer } from '../etcd/server.js';
import { SERVICE_CIDR } from '../targets/lab/addressing.js';
import { startApiServer } from './apiserver.js';
import { componentBinary, k8sBinDir, K8S_VERSION } from './binaries.js';
import { createPki, type CertFiles, type Pki } from './certs.js';
import { startControllerManager } from './controller-manager.js';
import { writeKubeconfig } from './kubeconfig.js';
import type { ManagedProcess } from './process.js';

export interface ControlPlaneOptions {
  /** Where build.sh put the binaries (default: the version-keyed cache). */
  binDir?: string;
  /** etcd to run; default: the one in binDir if built, else Debian's `etcd` on PATH. */
  etcdBinary?: string;
  /**
   * Service CIDR. The default is the lab's whole VIP range, so Services can carry the lab's own
   * VIPs (198.19.1.0+); the `kubernetes` Service takes 198.19.0.1, in the lab's reserved first /24.
   */
  serviceCidr?: string;
  /** Lab address written into the `kubernetes` endpoints; the apiserver refuses loopback here. */
  advertiseAddress?: string;
  controllerManager?: boolean;
  /** Called with each process right after it starts, so a caller can record it for `dpbench cleanup`. */
  onProcess?: (p: { pid: number; comm: string }) => void | Promise<void>;
  /**
   * Directory to create the control plane's state dir in (default: the system temp dir). The lab
   * passes its run dir, so `dpbench cleanup` removes the certificates and etcd data of a killed run.
   */
  parentDir?: string;
}

export interface ControlPlane {
  /** https://127.0.0.1:<port> */
  url: string;
  /** Admin (system:masters) kubeconfig; load it with @kubernetes/client-node's KubeConfig.loadFromFile. */
  kubeconfig: string;
  stateDir: string;
  pki: Pki;
  versions: { kubernetes: string; etcd: string };
  etcd: EtcdServer;
  apiserver: ManagedProcess;
  controllerManager: ManagedProcess | undefined;
  /** Writes a kubeconfig for another identity, reaching the apiserver at `server` (e.g. through a relay). */
  kubeconfigFor(name: string, user: CertFiles, server?: string): Promise<string>;
  /** Stops everything in reverse order and removes the state dir. Idempotent; safe from signal handlers. */
  stop(): Promise<void>;
}

/** The first IP of a CIDR plus one: what the apiserver gives the `kubernetes` Service. */
export function firstServiceIp(cidr: string): string {
  const [base] = cidr.split('/');
  const o = base!.split('.').map(Number);
  o[3] = (o[3] ?? 0) + 1;
  return o.join('.');
}

/**
 * Free ports come from binding port 0 and closing it; on a busy machine another process (any
 * outgoing connection takes an ephemeral port) can grab one before the component binds it.
 */
async function retryPortRace<T>(start: (attempt: number) => Promise<T>, attempts = 3): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await start(n);
    } catch (e) {
      if (n >= attempts || !/address already in use/i.test((e as Error).message)) throw e;
    }
  }
}

/**
 * etcd, kube-apiserver and kube-controller-manager, all on 127.0.0.1 with fresh credentials in a
 * temp dir. Every step that fails undoes the ones before it, so a failed start leaves nothing.
 */
export async function startControlPlane(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const binDir = opts.binDir ?? k8sBinDir();
  const serviceCidr = opts.serviceCidr ?? SERVICE_CIDR;
  const advertiseAddress = opts.advertiseAddress ?? '198.18.0.100';
  const withCm = opts.controllerManager ?? true;
  const apiserverBin = await componentBinary('kube-apiserver', binDir);
  const cmBin = withCm ? await componentBinary('kube-controller-manager', binDir) : '';
  const etcdBinary = opts.etcdBinary ?? (await componentBinary('etcd', binDir).catch(() => 'etcd'));

  const stateDir = await mkdtemp(join(opts.parentDir ?? tmpdir(), 'dpbench-cp-'));
  const started: { stop(): Promise<void> }[] = [];
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      const errors: unknown[] = [];
      for (const s of started.reverse()) await s.stop().catch((e: unknown) => errors.push(e));
      await rm(stateDir, { recursive: true, force: true });
      if (errors.length) throw errors[0];
    })());

  try {
    const pkiDir = join(stateDir, 'pki');
    await mkdir(pkiDir, { mode: 0o700 });
    const pki = await createPki({ dir: pkiDir, ips: ['127.0.0.1', firstServiceIp(serviceCidr), advertiseAddress] });

    const etcd = await retryPortRace((n) => startEtcd({ dataDir: join(stateDir, `etcd-${n}`), binary: etcdBinary }));
    started.push(etcd);
    await opts.onProcess?.({ pid: etcd.pid, comm: 'etcd' });

    const apiserver = await retryPortRace(async () =>
      startApiServer({
        binary: apiserverBin,
        stateDir,
        pki,
        etcdEndpoint: etcd.endpoint,
        port: await freeLoopbackPort(),
        bindAddress: '127.0.0.1',
        advertiseAddress,
        serviceCidr,
      }),
    );
    started.push(apiserver.process);
    await opts.onProcess?.({ pid: apiserver.process.pid, comm: 'kube-apiserver' });

    const kubeconfigFor = (name: string, user: CertFiles, server = apiserver.url) =>
      writeKubeconfig(join(stateDir, `${name}.kubeconfig`), { server, caFile: pki.ca.cert, user, name: `dpbench-${name}` });
    const kubeconfig = await kubeconfigFor('admin', pki.admin);

    let controllerManager: ManagedProcess | undefined;
    if (withCm) {
      const cmKubeconfig = await kubeconfigFor('controller-manager', pki.controllerManager);
      controllerManager = await retryPortRace(async () =>
        startControllerManager({ binary: cmBin, stateDir, pki, kubeconfig: cmKubeconfig, port: await freeLoopbackPort(), serviceCidr }),
      );
      started.push(controllerManager);
      await opts.onProcess?.({ pid: controllerManager.pid, comm: 'kube-controller' });
    }

    return {
      url: apiserver.url,
      kubeconfig,
      stateDir,
      pki,
      versions: { kubernetes: K8S_VERSION, etcd: etcd.version },
      etcd,
      apiserver: apiserver.process,
      controllerManager,
      kubeconfigFor,
      stop,
    };
  } catch (e) {
    await stop().catch(() => {});
    throw e;
  }
}
