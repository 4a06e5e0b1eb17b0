import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { exec } from '../util/exec.js';

/** A key pair on disk, PEM. */
export interface CertFiles {
  cert: string;
  key: string;
}

export interface Pki {
  ca: CertFiles;
  apiserver: CertFiles;
  /** O=system:masters: everything the tests and dpbench itself do. */
  admin: CertFiles;
  /** CN=system:kube-controller-manager: bound by the default RBAC roles. */
  controllerManager: CertFiles;
  /** CN=system:kube-proxy: bound to system:node-proxier by the default RBAC roles. */
  kubeProxy: CertFiles;
  /** Service-account token signing pair (private key for signing, public key for verifying). */
  serviceAccount: { key: string; pub: string };
}

export interface PkiOptions {
  dir: string;
  /** IP SANs of the serving cert: where clients reach the apiserver, and the `kubernetes` Service IP. */
  ips: readonly string[];
  /** A short lifetime: these credentials exist for one test run. */
  days?: number;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/**
 * A throwaway PKI made with openssl (installed everywhere dpbench runs). ECDSA P-256 keeps
 * generation in milliseconds; Go's TLS and Kubernetes' key parsing accept it for every role.
 */
export async function createPki(opts: PkiOptions): Promise<Pki> {
  const { dir } = opts;
  const days = String(opts.days ?? 2);
  const p = (n: string): CertFiles => ({ cert: join(dir, `${n}.crt`), key: join(dir, `${n}.key`) });
  const ca = p('ca');
  const caCnf = join(dir, 'ca.cnf');
  await writeFile(
    caCnf,
    [
      '[req]',
      'distinguished_name=dn',
      'x509_extensions=v3',
      '[dn]',
      '[v3]',
      'basicConstraints=critical,CA:TRUE',
      'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
      'subjectKeyIdentifier=hash',
      '',
    ].join('\n'),
  );
  await exec(['openssl', 'req', '-x509', ...EC, '-config', caCnf, '-subj', '/CN=dpbench-ca', '-days', days,
    '-keyout', ca.key, '-out', ca.cert]);

  const leaf = async (name: string, subj: string, ext: string[]): Promise<CertFiles> => {
    const f = p(name);
    const csr = join(dir, `${name}.csr`);
    const extFile = join(dir, `${name}.ext`);
    await writeFile(extFile, ['[v3]', 'basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment',
      'authorityKeyIdentifier=keyid', ...ext, ''].join('\n'));
    await exec(['openssl', 'req', '-new', ...EC, '-subj', subj, '-keyout', f.key, '-out', csr]);
    await exec(['openssl', 'x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-set_serial',
      `0x${Date.now().toString(16)}${Math.floor(Math.random() * 1e6).toString(16)}`, '-days', days,
      '-extfile', extFile, '-extensions', 'v3', '-out', f.cert]);
    return f;
  };

  const san = [
    ...opts.ips.map((ip) => `IP:${ip}`),
    'DNS:localhost',
    'DNS:kubernetes',
    'DNS:kubernetes.default',
    'DNS:kubernetes.default.svc',
    'DNS:kubernetes.default.svc.cluster.local',
  ].join(',');
  const apiserver = await leaf('apiserver', '/CN=kube-apiserver', ['extendedKeyUsage=serverAuth', `subjectAltName=${san}`]);
  const client = ['extendedKeyUsage=clientAuth'];
  const admin = await leaf('admin', '/O=system:masters/CN=dpbench-admin', client);
  const controllerManager = await leaf('controller-manager', '/CN=system:kube-controller-manager', client);
  const kubeProxy = await leaf('kube-proxy', '/CN=system:kube-proxy', client);

  const serviceAccount = { key: join(dir, 'sa.key'), pub: join(dir, 'sa.pub') };
  await exec(['openssl', 'ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', serviceAccount.key]);
  await exec(['openssl', 'ec', '-in', serviceAccount.key, '-pubout', '-out', serviceAccount.pub]);
  return { ca, apiserver, admin, controllerManager, kubeProxy, serviceAccount };
}
