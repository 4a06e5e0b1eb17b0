/** Entry point of the closed-loop generator process; same protocol as worker.ts. */
import { runClosedLoop } from './closed-loop.js';
import { serveWorker } from '../util/stdin.js';
import type { ClosedLoopConfig } from './types.js';


const ac = new AbortController();
process.on('SIGTERM', () => ac.abort());
process.on('SIGINT', () => ac.abort());

await serveWorker((cfg: ClosedLoopConfig) => runClosedLoop(cfg, ac.signal));
