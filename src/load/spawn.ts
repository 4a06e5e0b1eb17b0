import { runWorker, siblingModule, type Placement } from '../util/netns-worker.js';
import { mergeOpenLoopResults } from './merge.js';
import type { ClosedLoopConfig, ClosedLoopResult, OpenLoopConfig, OpenLoopResult } from './types.js';

/** The config of worker k of n: its share of the rate and connections, and its own seed. */
export function workerShare(cfg: OpenLoopConfig, k: number, n: number): OpenLoopConfig {
  const rate = cfg.rate / n;
  const connections = Math.max(cfg.groups.length, Math.ceil(cfg.connections / n));
  return { ...cfg, rate, connections, workers: 1, seed: (cfg.seed ?? 1) * 7919 + k };
}

/**
 * Runs the open-loop engine (worker.ts) inside the client pod's namespace, cgroup and CPU. With
 * `workers` > 1, each process sends its share of the rate and the results are merged.
 */
export async function spawnOpenLoop(cfg: OpenLoopConfig, where: Placement, signal?: AbortSignal): Promise<OpenLoopResult> {
  const n = Math.max(1, Math.floor(cfg.workers ?? 1));
  const module = siblingModule(import.meta.url, 'worker');
  if (n === 1) return runWorker<OpenLoopConfig, OpenLoopResult>(module, { ...cfg, workers: 1 }, where, signal);
  const parts = await Promise.all(
    Array.from({ length: n }, (_, k) => runWorker<OpenLoopConfig, OpenLoopResult>(module, workerShare(cfg, k, n), where, signal)),
  );
  return mergeOpenLoopResults(parts);
}

/** Runs the closed-loop (autocannon) engine in the same placement as the open-loop one. */
export function spawnClosedLoop(cfg: ClosedLoopConfig, where: Placement, signal?: AbortSignal): Promise<ClosedLoopResult> {
  return runWorker<ClosedLoopConfig, ClosedLoopResult>(siblingModule(import.meta.url, 'closed-worker'), cfg, where, signal);
}
