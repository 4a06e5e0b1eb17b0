import { mkdir, readFile, readdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Everything a lab creates is recorded here *before* it is created, so a second process
 * (`dpbench lab down`, `dpbench cleanup`) can remove the leftovers of a run that was killed.
 */
export interface LabState {
  id: string;
  createdAt: string;
  /** PID of the dpbench process that owns the lab (a dead owner means the lab is orphaned). */
  ownerPid: number;
  runDir: string;
  namespaces: string[];
  /** Processes the lab started (echo servers, DNS), by PID, with the command name to check before killing. */
  processes: { pid: number; comm: string }[];
  /** Mount points under runDir, unmounted in reverse order. */
  mounts: string[];
  /** cgroup v2 directories, removed deepest first. */
  cgroups: string[];
}

export const STATE_ROOT = process.env.DPBENCH_RUN_DIR ?? '/run/dpbench';

export const stateFile = (runDir: string) => join(runDir, 'state.json');

export async function saveState(s: LabState): Promise<void> {
  await mkdir(s.runDir, { recursive: true });
  const tmp = `${stateFile(s.runDir)}.tmp`;
  await writeFile(tmp, JSON.stringify(s, null, 2));
  await rename(tmp, stateFile(s.runDir));
}

export async function loadState(runDir: string): Promise<LabState | undefined> {
  try {
    return JSON.parse(await readFile(stateFile(runDir), 'utf8')) as LabState;
  } catch {
    return undefined;
  }
}

/** All labs with a state file, live or orphaned. */
export async function listStates(root = STATE_ROOT): Promise<LabState[]> {
  let dirs: string[];
  try {
    dirs = await readdir(root);
  } catch {
    return [];
  }
  const out: LabState[] = [];
  for (const d of dirs) {
    const s = await loadState(join(root, d));
    if (s) out.push(s);
  }
  return out;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
