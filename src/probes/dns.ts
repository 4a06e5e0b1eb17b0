import { z } from 'zod';
import type { Metric } from '../results/model.js';
import { newHistogram, toDistribution } from '../results/histogram.js';
import { runWorker, siblingModule, type Placement } from '../util/netns-worker.js';
import { DNS_POD_IP, DNS_PORT, DNS_VIP, type ServiceSpec } from '../targets/lab/addressing.js';
import { EXTERNAL_NAME, searchPath, serviceFqdn } from '../targets/lab/dns.js';
import { prng } from '../util/prng.js';
import { probeDuration } from './connect.js';
import type { DnsLookup, DnsWorkerInput, DnsWorkerResult } from './dns-worker.js';

export const DnsProbeSchema = z
  .object({
    samples: z.number().int().min(20).max(100_000).default(500).describe('lookups of each kind: a service name, and an external name through the ndots:5 search path'),
    gap: probeDuration(1).default(0.001).describe('pause between two lookups'),
    timeout: probeDuration(10).default(1).describe('per query; a lookup with a query not answered by then counts as an error'),
    warmup: z.number().int().min(0).max(10_000).default(20).describe('lookups of each kind made first and discarded'),
  })
  .strict();
export type DnsProbeOptions = z.output<typeof DnsProbeSchema>;

export interface DnsPlan {
  lookups: (DnsLookup & { kind: 'service' | 'external'; measured: boolean })[];
}

/**
 * Service lookups (a random background service's FQDN, answered with its VIP) interleaved with
 * external lookups (EXTERNAL_NAME through the whole search path a pod's resolver walks).
 */
export function dnsPlan(services: readonly ServiceSpec[], o: DnsProbeOptions, seed = 1): DnsPlan {
  if (services.length === 0) throw new RangeError('the DNS probe needs at least one service');
  const rand = prng(seed);
  const lookups: DnsPlan['lookups'] = [];
  const external = searchPath(EXTERNAL_NAME);
  for (let i = 0; i < o.warmup + o.samples; i++) {
    const svc = services[Math.floor(rand() * services.length)]!;
    const pair: DnsPlan['lookups'] = [
      { kind: 'service', names: [serviceFqdn(svc)], expect: svc.vip, measured: i >= o.warmup },
      { kind: 'external', names: external, expect: DNS_POD_IP, measured: i >= o.warmup },
    ];
    if (rand() < 0.5) pair.reverse();
    lookups.push(...pair);
  }
  return { lookups };
}

export interface DnsProbeResult {
  metrics: Record<string, Metric>;
  errors: number;
  attempts: number;
  errorCodes: Record<string, number>;
}

export function dnsMetrics(plan: DnsPlan, r: DnsWorkerResult): DnsProbeResult {
  const hs = { service: newHistogram(), external: newHistogram() };
  let errors = 0;
  let attempts = 0;
  plan.lookups.forEach((l, i) => {
    if (!l.measured) return;
    attempts++;
    const us = r.us[i] ?? -1;
    if (us < 0) errors++;
    else hs[l.kind].recordValue(Math.max(1, Math.round(us)));
  });
  return {
    metrics: {
      'dns.lookup': toDistribution(hs.service),
      'dns.lookup.external': toDistribution(hs.external),
      'dns.errors': { unit: 'count', value: errors },
      'dns.queries': { unit: 'count', value: r.queries },
    },
    errors,
    attempts,
    errorCodes: r.errors,
  };
}

/**
 * Lookups from the client pod to the DNS service VIP, so every query crosses the datapath under
 * test (UDP): the VIP's NAT decision, or the eBPF sendmsg4/recvmsg4 rewrite.
 */
export async function runDnsProbe(
  services: readonly ServiceSpec[],
  o: DnsProbeOptions,
  where: Placement,
  seed = 1,
  signal?: AbortSignal,
): Promise<DnsProbeResult> {
  const plan = dnsPlan(services, o, seed);
  const input: DnsWorkerInput = {
    server: `${DNS_VIP}:${DNS_PORT}`,
    lookups: plan.lookups.map(({ names, expect }) => ({ names, expect })),
    gapMs: o.gap * 1000,
    timeoutMs: Math.max(1, Math.round(o.timeout * 1000)),
  };
  const r = await runWorker<DnsWorkerInput, DnsWorkerResult>(siblingModule(import.meta.url, 'dns-worker'), input, where, signal);
  return dnsMetrics(plan, r);
}
