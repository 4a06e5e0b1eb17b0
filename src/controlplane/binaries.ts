import { access, constants } from 'node:fs/promises';
import { join } from 'node:path';
import { environment } from '../errors.js';

/** The release pinned in scripts/k8s/go.mod; a test keeps the two in step. */
export const K8S_VERSION = 'v1.37.2';

export type ComponentName = 'kube-apiserver' | 'kube-controller-manager' | 'kube-proxy' | 'etcd';

/**
 * Where scripts/k8s/build.sh caches the binaries. DPBENCH_K8S_BIN overrides it (binaries built
 * elsewhere); the cache sits outside the repo so a fresh CI clone on the same machine finds it.
 */
export function k8sBinDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.DPBENCH_K8S_BIN) return env.DPBENCH_K8S_BIN;
  return join(env.DPBENCH_CACHE ?? '/var/cache/dpbench', 'k8s', K8S_VERSION, 'bin');
}

/** Absolute path of a built component, or an ENVIRONMENT error telling how to build it. */
export async function componentBinary(name: ComponentName, dir = k8sBinDir()): Promise<string> {
  const path = join(dir, name);
  try {
    await access(path, constants.X_OK);
    return path;
  } catch {
    throw environment(
      `${name} ${K8S_VERSION} is not built (looked for ${path})`,
      'run `bash scripts/k8s/build.sh` (or `npm run test:controlplane`, which builds what is missing)',
    );
  }
}
