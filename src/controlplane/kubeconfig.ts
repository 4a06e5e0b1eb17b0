import { readFile, writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';
import type { CertFiles } from './certs.js';

export interface KubeconfigSpec {
  server: string;
  caFile: string;
  user: CertFiles;
  /** Context, cluster and user names; also what `kubectl config current-context` shows. */
  name?: string;
}

const b64 = async (path: string) => (await readFile(path)).toString('base64');

/**
 * Writes a kubeconfig with the credentials embedded, so it stays valid wherever it is copied
 * (a CI artifact, another namespace's process) and needs no relative paths.
 */
export async function writeKubeconfig(path: string, spec: KubeconfigSpec): Promise<string> {
  const name = spec.name ?? 'dpbench';
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster: { server: spec.server, 'certificate-authority-data': await b64(spec.caFile) } }],
    users: [
      {
        name,
        user: {
          'client-certificate-data': await b64(spec.user.cert),
          'client-key-data': await b64(spec.user.key),
        },
      },
    ],
    contexts: [{ name, context: { cluster: name, user: name } }],
    'current-context': name,
  };
  await writeFile(path, stringify(doc), { mode: 0o600 });
  return path;
}
