import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

/** Real HTTP servers on 127.0.0.1, port 0, whose latency is known in advance. */
export interface TestServer {
  port: number;
  close: () => Promise<void>;
}

async function listen(server: Server): Promise<TestServer> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const ok = (res: import('node:http').ServerResponse) => {
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '3' });
  res.end('ok\n');
};

/** Answers every request after `delayMs`. */
export const fixedDelayServer = (delayMs: number) => listen(createServer((_req, res) => void setTimeout(() => ok(res), delayMs)));

/**
 * Stalls for `stallMs` at the start of every `periodMs`: a request arriving during a stall is
 * answered when the stall ends, any other at once. Under a constant open-loop rate, a share
 * stallMs/periodMs of requests is delayed, by an amount spread evenly over (0, stallMs].
 */
export function stallingServer(stallMs: number, periodMs: number): Promise<TestServer> {
  return listen(
    createServer((_req, res) => {
      const phase = performance.now() % periodMs;
      if (phase < stallMs) setTimeout(() => ok(res), stallMs - phase);
      else ok(res);
    }),
  );
}

/** Accepts connections and reads requests but never answers: every request must time out. */
export const blackHoleServer = () => listen(createServer(() => {}));
