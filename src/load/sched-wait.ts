import { readFileSync } from 'node:fs';

/**
 * Nanoseconds this process's main thread has spent runnable but waiting for a CPU (second field
 * of /proc/self/schedstat). The generator's own CPU use cannot tell "busy" from "starved by a
 * neighbour"; run-queue wait can, and a starved generator sends late whatever its code does.
 * Returns 0 where the kernel does not expose it.
 */
export function schedWaitNs(): number {
  try {
    const f = readFileSync('/proc/self/schedstat', 'latin1').split(' ');
    return Number(f[1]) || 0;
  } catch {
    return 0;
  }
}
