import { exec } from '../../../util/exec.js';
import { CLUSTER_POD_CIDR, NODE_A_IP, SERVICE_CIDR, type Endpoint, type ServiceSpec } from '../addressing.js';
import { flushUdpConntrack, type Datapath, type InstallInfo, type LabContext } from './datapath.js';
import { base32Sha256, MASQ_MARK } from './iptables.js';

/**
 * The rules kube-proxy v1.37.2's nftables mode writes for the lab's services (ClusterIP, k
 * endpoints, no session affinity, no NodePort/LoadBalancer), checked against the real binary by
 * test/controlplane/fidelity.test.ts. A packet to a VIP walks: nat-prerouting → services (one
 * @cluster-ips masquerade-mark rule, then the service-ips vmap) → the service chain, whose single
 * rule DNATs with `numgen random mod k` straight into an address . port map. New connections also
 * pass three `ct state new` verdict-map lookups in filter hooks (firewall-ips before DNAT,
 * no-endpoint-services and cluster-ips-check after), which is part of real kube-proxy's cost.
 */
export const NFT_TABLE = 'kube-proxy';
/**
 * The one thing the model adds to kube-proxy's table: `counter` on the service-ips map, so every
 * element counts its lookup hits. A hit is a goto into a service chain whose only rule is the DNAT,
 * so the sum proves VIP traffic was load-balanced. Nat hooks see only a connection's first packet:
 * one per-CPU counter add per new connection, nothing per packet after that. It is read with
 * `nft list map`, which fetches that one map; counters on the service chains' rules would need
 * every rule fetched (9.5 s at 10k services, measured, against ~0.8 s for the map). The fidelity
 * test accepts this flag as its only difference (ACCEPTED there).
 */
export const NFT_MAP_COUNTER = 'counter ;';

/** kube-proxy's hashAndTruncate: 8 base32 chars of sha256, a dash, then the readable name. */
function hashAndTruncate(name: string): string {
  const full = `${base32Sha256(name).slice(0, 8)}-${name}`;
  return full.length > 256 ? `${full.slice(0, 253)}...` : full;
}

const portBase = (svc: ServiceSpec): string => `${svc.namespace}/${svc.name}/${svc.protocol}/p${svc.port}`;

export const nftServiceChain = (svc: ServiceSpec): string => `service-${hashAndTruncate(portBase(svc))}`;

const mapKey = (svc: ServiceSpec): string => `${svc.vip} . ${svc.protocol} . ${svc.port}`;

/**
 * kube-proxy's endpoint order: it sorts a service's endpoints by their "ip:port" string (so
 * "198.18.2.100:8080" comes before "198.18.2.10:8080"), and the numgen index follows that order.
 */
export const kubeProxyEndpointOrder = (eps: readonly Endpoint[]): Endpoint[] =>
  eps
    .map((ep) => ({ ep, key: `${ep.ip}:${ep.port}` }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map((x) => x.ep);

/** The service chain's one rule: DNAT to the only endpoint, or to one picked by numgen. */
export function nftDnatRule(svc: ServiceSpec): string {
  const eps = kubeProxyEndpointOrder(svc.endpoints);
  if (eps.length === 1) return `meta l4proto ${svc.protocol} dnat to ${eps[0]!.ip}:${eps[0]!.port}`;
  const map = eps.map((ep, i) => `${i} : ${ep.ip} . ${ep.port}`).join(' , ');
  return `meta l4proto ${svc.protocol} dnat ip addr . port to numgen random mod ${eps.length} map { ${map} }`;
}

export interface NftServiceText {
  /** Chain and rule statements (empty for a service without endpoints: kube-proxy writes no chain). */
  chains: string[];
  /** The service's @cluster-ips element. */
  clusterIp: string;
  /** Its `service-ips` element ("key : goto chain"), or null without endpoints. */
  serviceIp: string | null;
  /** Its `no-endpoint-services` element (rejects), or null when it has endpoints. */
  noEndpoint: string | null;
  rules: number;
}

/** What kube-proxy writes for one ClusterIP service port. */
export function nftServiceText(svc: ServiceSpec): NftServiceText {
  const t = `ip ${NFT_TABLE}`;
  if (svc.endpoints.length === 0) {
    const comment = `${svc.namespace}/${svc.name}:p${svc.port}`;
    return { chains: [], clusterIp: svc.vip, serviceIp: null, noEndpoint: `${mapKey(svc)} comment "${comment}" : goto reject-chain`, rules: 0 };
  }
  const chain = nftServiceChain(svc);
  return {
    chains: [`add chain ${t} ${chain}`, `add rule ${t} ${chain} ${nftDnatRule(svc)}`],
    clusterIp: svc.vip,
    serviceIp: `${mapKey(svc)} : goto ${chain}`,
    noEndpoint: null,
    rules: 1,
  };
}

/** Same count nftServiceText reports, without hashing names (describe() runs at 40k services). */
export const serviceRuleCount = (svc: ServiceSpec): number => (svc.endpoints.length > 0 ? 1 : 0);

/** service-ips elements: one per service with at least one endpoint. */
function mappedCount(services: Iterable<ServiceSpec>): number {
  let n = 0;
  for (const s of services) if (s.endpoints.length > 0) n++;
  return n;
}

export interface NftRuleset {
  text: string;
  rules: number;
  elements: number;
}

interface BaseChain {
  name: string;
  /** Base-chain spec, e.g. "type nat hook output priority -100", or a comment for a regular chain. */
  spec?: string;
  rules: string[];
}

/**
 * kube-proxy's service-independent chains, in its order. Hook priorities are numeric where nft
 * 1.0.6 (Debian 12) only accepts the name on another hook: -110 is kube-proxy's `dstnat - 10`,
 * -100 is dstnat, 0 is filter.
 */
function baseChains(): BaseChain[] {
  const tuple = 'ip daddr . meta l4proto . th dport';
  const hook = (type: string, h: string, prio: string) => `type ${type} hook ${h} priority ${prio} ;`;
  return [
    { name: 'filter-prerouting-pre-dnat', spec: hook('filter', 'prerouting', '-110'), rules: ['ct state new jump firewall-check'] },
    { name: 'filter-output-pre-dnat', spec: hook('filter', 'output', '-110'), rules: ['ct state new jump firewall-check'] },
    {
      name: 'filter-input',
      spec: hook('filter', 'input', '0'),
      rules: ['ct state new jump nodeport-endpoints-check', 'ct state new jump service-endpoints-check'],
    },
    {
      name: 'filter-forward',
      spec: hook('filter', 'forward', '0'),
      rules: ['ct state new jump service-endpoints-check', 'ct state new jump cluster-ips-check'],
    },
    {
      name: 'filter-output',
      spec: hook('filter', 'output', '0'),
      rules: ['ct state new jump service-endpoints-check', 'ct state new jump cluster-ips-check'],
    },
    { name: 'nat-prerouting', spec: hook('nat', 'prerouting', 'dstnat'), rules: ['jump services'] },
    { name: 'nat-output', spec: hook('nat', 'output', '-100'), rules: ['jump services'] },
    { name: 'nat-postrouting', spec: hook('nat', 'postrouting', 'srcnat'), rules: ['jump masquerading'] },
    { name: 'nodeport-endpoints-check', rules: ['ip daddr @nodeport-ips meta l4proto . th dport vmap @no-endpoint-nodeports'] },
    { name: 'service-endpoints-check', rules: [`${tuple} vmap @no-endpoint-services`] },
    { name: 'firewall-check', rules: [`${tuple} vmap @firewall-ips`] },
    {
      name: 'services',
      rules: [
        `ip daddr @cluster-ips ip saddr != ${CLUSTER_POD_CIDR} meta mark set meta mark | ${MASQ_MARK} comment "masquerade clusterIP traffic from outside cluster"`,
        `${tuple} vmap @service-ips`,
        'ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports',
      ],
    },
    {
      name: 'masquerading',
      rules: [
        `meta mark & ${MASQ_MARK} != 0 meta mark set meta mark ^ ${MASQ_MARK} masquerade fully-random`,
        'ct status dnat ip saddr . ip daddr . meta l4proto . th dport @hairpin-connections masquerade fully-random',
      ],
    },
    {
      name: 'cluster-ips-check',
      rules: [
        'ip daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"',
        `ip daddr ${SERVICE_CIDR} drop comment "Drop traffic to unallocated ClusterIPs"`,
      ],
    },
    { name: 'reject-chain', spec: 'comment "helper for @no-endpoint-services / @no-endpoint-nodeports" ;', rules: ['reject'] },
  ];
}

/** Rules written by baseText (one per `add rule`). */
const BASE_RULES = baseChains().reduce((a, c) => a + c.rules.length, 0);

/**
 * Sets, maps and chains that do not depend on services. Every chain is declared before any rule:
 * a rule can only jump to a chain that exists.
 */
function baseText(): string[] {
  const t = `ip ${NFT_TABLE}`;
  const tuple = 'ipv4_addr . inet_proto . inet_service';
  const chains = baseChains();
  return [
    `add table ${t} { comment "rules for kube-proxy" ; }`,
    `add set ${t} hairpin-connections { type ipv4_addr . ${tuple} ; comment "service hairpin connections" ; }`,
    `add set ${t} cluster-ips { type ipv4_addr ; comment "Active ClusterIPs" ; }`,
    `add set ${t} nodeport-ips { type ipv4_addr ; comment "IPs that accept NodePort traffic" ; }`,
    // kube-proxy runs on node-a: its node IP accepts NodePort traffic (the lab has no NodePorts).
    `add element ${t} nodeport-ips { ${NODE_A_IP} }`,
    `add map ${t} no-endpoint-services { type ${tuple} : verdict ; comment "vmap to drop or reject packets to services with no endpoints" ; }`,
    `add map ${t} no-endpoint-nodeports { type inet_proto . inet_service : verdict ; comment "vmap to drop or reject packets to service nodeports with no endpoints" ; }`,
    `add map ${t} firewall-ips { type ${tuple} : verdict ; comment "destinations that are subject to LoadBalancerSourceRanges" ; }`,
    `add map ${t} service-ips { type ${tuple} : verdict ; ${NFT_MAP_COUNTER} comment "ClusterIP, ExternalIP and LoadBalancer IP traffic" ; }`,
    `add map ${t} service-nodeports { type inet_proto . inet_service : verdict ; comment "NodePort traffic" ; }`,
    ...chains.map((c) => `add chain ${t} ${c.name}${c.spec ? ` { ${c.spec} }` : ''}`),
    ...chains.flatMap((c) => c.rules.map((r) => `add rule ${t} ${c.name} ${r}`)),
  ];
}

/** Services per `nft -f` transaction during a bulk install. */
const INSTALL_BATCH = 500;
/** Elements per `add element` statement, so no single line gets huge. */
const ELEMENT_CHUNK = 1000;

/** `add element` statements for a list of elements, chunked. */
function addElements(set: string, elements: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < elements.length; i += ELEMENT_CHUNK) {
    out.push(`add element ip ${NFT_TABLE} ${set} { ${elements.slice(i, i + ELEMENT_CHUNK).join(' , ')} }`);
  }
  return out;
}

/**
 * Adds services: their chains first, then the set and map elements that make them reachable
 * (kube-proxy's order too: a map element must not point at a chain that does not exist yet).
 */
export function nftAddServicesText(services: readonly ServiceSpec[]): string {
  const lines: string[] = [];
  const clusterIps: string[] = [];
  const serviceIps: string[] = [];
  const noEndpoints: string[] = [];
  for (const svc of services) {
    const s = nftServiceText(svc);
    lines.push(...s.chains);
    clusterIps.push(s.clusterIp);
    if (s.serviceIp) serviceIps.push(s.serviceIp);
    if (s.noEndpoint) noEndpoints.push(s.noEndpoint);
  }
  lines.push(...addElements('cluster-ips', clusterIps), ...addElements('service-ips', serviceIps), ...addElements('no-endpoint-services', noEndpoints));
  return lines.length ? `${lines.join('\n')}\n` : '';
}

/**
 * One `nft -f -` transaction that replaces the whole table (add+delete makes the delete safe when
 * the table is absent).
 */
export function nftRuleset(services: readonly ServiceSpec[]): NftRuleset {
  const t = `ip ${NFT_TABLE}`;
  const text = `${[`add table ${t}`, `delete table ${t}`, ...baseText()].join('\n')}\n${nftAddServicesText(services)}`;
  const rules = BASE_RULES + services.reduce((a, s) => a + serviceRuleCount(s), 0);
  return { text, rules, elements: mappedCount(services) };
}

/** Incremental add, as kube-proxy's partial sync does: the chain, then the elements. */
export const nftAddServiceText = (svc: ServiceSpec): string => nftAddServicesText([svc]);

/** Incremental remove: unmap first so no new connection enters, then flush and delete the chain. */
export function nftRemoveServiceText(svc: ServiceSpec): string {
  const t = `ip ${NFT_TABLE}`;
  const lines = [`delete element ${t} cluster-ips { ${svc.vip} }`];
  if (svc.endpoints.length === 0) lines.push(`delete element ${t} no-endpoint-services { ${mapKey(svc)} }`);
  else {
    const chain = nftServiceChain(svc);
    lines.push(`delete element ${t} service-ips { ${mapKey(svc)} }`, `flush chain ${t} ${chain}`, `delete chain ${t} ${chain}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Sum of the element counters in `nft list map ... service-ips` output. */
export function sumNftMapPackets(text: string): number {
  let total = 0;
  for (const m of text.matchAll(/counter packets (\d+)/g)) total += Number(m[1]);
  return total;
}

class NftablesDatapath implements Datapath {
  readonly name = 'nftables' as const;
  private services = new Map<number, ServiceSpec>();
  private version = '';

  constructor(private readonly ctx: LabContext) {}

  async unavailable(): Promise<string | null> {
    const r = await exec(['nft', '--version'], { allowFailure: true }).catch(() => null);
    if (!r || r.code !== 0) return 'nft is not installed (Debian package nftables)';
    this.version = r.stdout.trim().split(' ').slice(0, 2).join(' ');
    const t = await exec(['nft', 'list', 'tables'], { netns: this.ctx.nodeNs, allowFailure: true });
    if (t.code !== 0) return `nft cannot talk to the kernel: ${t.stderr.trim()}`;
    return null;
  }

  async install(services: readonly ServiceSpec[]): Promise<InstallInfo> {
    const start = process.hrtime.bigint();
    // The table, then the services in transactions of INSTALL_BATCH. The kernel's cost of one
    // transaction grows faster than linearly with the anonymous numgen maps it holds (one per
    // service with 2+ endpoints): measured here with the older shape, 10k services took 44 s as
    // one transaction and 12 s in batches of 500. The rules that end up in the kernel are
    // identical; only the bulk loading differs from kube-proxy's first sync.
    await this.nft(nftRuleset([]).text);
    for (let i = 0; i < services.length; i += INSTALL_BATCH) {
      await this.nft(nftAddServicesText(services.slice(i, i + INSTALL_BATCH)));
    }
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    this.services = new Map(services.map((s) => [s.index, s]));
    return { objects: this.ruleCount() + this.mapped(), seconds };
  }

  async addService(svc: ServiceSpec): Promise<void> {
    const old = this.services.get(svc.index);
    await this.nft((old ? nftRemoveServiceText(old) : '') + nftAddServiceText(svc));
    this.services.set(svc.index, svc);
  }

  async removeService(svc: ServiceSpec): Promise<void> {
    const old = this.services.get(svc.index) ?? svc;
    await this.nft(nftRemoveServiceText(old));
    this.services.delete(svc.index);
    await flushUdpConntrack(this.ctx, old);
  }

  async decisions(): Promise<number> {
    const r = await exec(['nft', 'list', 'map', 'ip', NFT_TABLE, 'service-ips'], { netns: this.ctx.nodeNs });
    return sumNftMapPackets(r.stdout);
  }

  async uninstall(): Promise<void> {
    await this.nft(`add table ip ${NFT_TABLE}\ndelete table ip ${NFT_TABLE}\n`);
    this.services.clear();
  }

  private ruleCount(): number {
    let rules = BASE_RULES;
    for (const s of this.services.values()) rules += serviceRuleCount(s);
    return rules;
  }

  private mapped(): number {
    return mappedCount(this.services.values());
  }

  describe(): string {
    return `lab: kube-proxy-shaped nftables (${this.version || 'nft'}), ${this.ruleCount().toLocaleString('en-US')} rules, ${this.mapped().toLocaleString('en-US')} service-ips elements`;
  }

  private async nft(text: string): Promise<void> {
    await exec(['nft', '-f', '-'], { netns: this.ctx.nodeNs, input: text });
  }
}

export const createNftablesDatapath = (ctx: LabContext): Datapath => new NftablesDatapath(ctx);
