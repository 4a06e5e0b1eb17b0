/** Entry point of the closed-loop generator process; same protocol as worker.ts. */
import { runClosedLoop } from './closed-loop.js';
import { readJsonStdin } from '../util/stdin.js';
import type { ClosedLoopConfig } from './types.js';


const ac = new AbortController();
process.on('SIGTERM', () => ac.abort());
process.on('SIGINT', () => ac.abort());

const cfg = await readJsonStdin<ClosedLoopConfig>();
const result = await runClosedLoop(cfg, ac.signal);
process.stdout.write(`${JSON.stringify(result)}\n`);
