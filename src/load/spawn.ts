import { runWorker, siblingModule, type Placement } from '../util/netns-worker.js';
import type { OpenLoopConfig, OpenLoopResult } from './types.js';

/** Runs the open-loop engine (worker.ts) inside the client pod's namespace, cgroup and CPU. */
export function spawnOpenLoop(cfg: OpenLoopConfig, where: Placement, signal?: AbortSignal): Promise<OpenLoopResult> {
  return runWorker<OpenLoopConfig, OpenLoopResult>(siblingModule(import.meta.url, 'worker'), cfg, where, signal);
}
