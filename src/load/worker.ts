/**
 * Entry point of the load generator process. It runs inside the client pod's network namespace
 * (and, for the eBPF datapath, its cgroup), which a Node process cannot enter once started, so the
 * engine runs in its own process. Config arrives on stdin (it can hold 40k+ VIPs, too big for argv),
 * the result leaves as one JSON line on stdout.
 */
import { runOpenLoop } from './open-loop.js';
import { serveWorker } from '../util/stdin.js';
import type { OpenLoopConfig } from './types.js';


const ac = new AbortController();
process.on('SIGTERM', () => ac.abort());
process.on('SIGINT', () => ac.abort());

await serveWorker((cfg: OpenLoopConfig) => runOpenLoop(cfg, ac.signal));
