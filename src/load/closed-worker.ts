/** Entry point of the closed-loop generator process; same protocol as worker.ts. */
import { runClosedLoop } from './closed-loop.js';
import type { ClosedLoopConfig } from './types.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

const ac = new AbortController();
process.on('SIGTERM', () => ac.abort());
process.on('SIGINT', () => ac.abort());

const cfg = JSON.parse(await readStdin()) as ClosedLoopConfig;
const result = await runClosedLoop(cfg, ac.signal);
process.stdout.write(`${JSON.stringify(result)}\n`);
