/**
 * DNS-probe process, run inside the client pod (netns + cgroup) by runWorker. Each lookup gets a
 * fresh resolver (c-ares channel, new UDP socket), created before the clock starts: no resolver
 * cache can answer, and the datapath sees a new flow per lookup, as with glibc in a pod.
 */
import { serveWorker } from '../util/stdin.js';
import { timeEach } from './timed-ops.js';
import { promises as dns } from 'node:dns';
import { fileURLToPath } from 'node:url';

export interface DnsLookup {
  /** Names tried in order until one resolves (a search path), or a single name. */
  names: string[];
  /** The A record expected for the name that resolves; anything else is an error. */
  expect: string;
}

export interface DnsWorkerInput {
  server: string;
  lookups: DnsLookup[];
  gapMs: number;
  timeoutMs: number;
}

export interface DnsWorkerResult {
  /** µs per lookup, in order; −1 for a failed one. */
  us: number[];
  /** Queries sent (A and AAAA count separately). */
  queries: number;
  errors: Record<string, number>;
}

/** Answers that are a valid reply for a name (no such name / no such type), not a failure. */
const NEGATIVE = new Set(['ENOTFOUND', 'ENODATA']);

async function ask(r: dns.Resolver, name: string): Promise<string[] | null> {
  // A and AAAA in parallel, as glibc's getaddrinfo(AF_UNSPEC) sends them.
  const [a, aaaa] = await Promise.allSettled([r.resolve4(name), r.resolve6(name)]);
  for (const x of [a, aaaa]) {
    if (x.status === 'rejected' && !NEGATIVE.has((x.reason as NodeJS.ErrnoException).code ?? '')) throw x.reason;
  }
  return a.status === 'fulfilled' ? a.value : null;
}

export async function timeLookup(server: string, l: DnsLookup, timeoutMs: number): Promise<{ us: number; queries: number }> {
  const r = new dns.Resolver({ timeout: timeoutMs, tries: 1 });
  r.setServers([server]);
  let queries = 0;
  const t0 = process.hrtime.bigint();
  for (const name of l.names) {
    queries += 2;
    const a = await ask(r, name);
    if (a) {
      const us = Number(process.hrtime.bigint() - t0) / 1000;
      if (!a.includes(l.expect)) throw Object.assign(new Error(`${name} → ${a.join(',')}`), { code: 'EWRONGANSWER' });
      return { us, queries };
    }
  }
  throw Object.assign(new Error(`no name of ${l.names.join(', ')} resolved`), { code: 'ENOTFOUND' });
}

const main = () =>
  serveWorker(async (input: DnsWorkerInput): Promise<DnsWorkerResult> => {
    let queries = 0;
    const timed = await timeEach(input.lookups, input.gapMs, async (l) => {
      const t = await timeLookup(input.server, l, input.timeoutMs);
      queries += t.queries;
      return t.us;
    });
    return { ...timed, queries };
  });

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
