import { exec } from '../../../util/exec.js';
import { CLUSTER_POD_CIDR, type Endpoint, type ServiceSpec } from '../addressing.js';
import type { Datapath, InstallInfo, LabContext } from './datapath.js';
import { base32Sha256, MASQ_MARK } from './iptables.js';

export const NFT_TABLE = 'kube-proxy';
/**
 * Verification counts on the service-ips map itself: `counter` gives each element a per-CPU
 * counter bumped on a lookup hit. A nat chain only sees a connection's first packet, so that is
 * one add per new connection, negligible next to the lookup. It is read with `nft list map`,
 * which fetches that one map; a counter object or rule would need `nft list` to fetch every
 * rule first (9.5 s at 10k services, measured, against ~0.2 s at 3k for the map).
 */
export const NFT_MAP_COUNTER = 'counter ;';

/** kube-proxy's hashAndTruncate: 8 base32 chars of sha256, a dash, then the readable name. */
function hashAndTruncate(name: string): string {
  const full = `${base32Sha256(name).slice(0, 8)}-${name}`;
  return full.length > 256 ? `${full.slice(0, 253)}...` : full;
}

const portBase = (svc: ServiceSpec): string => `${svc.namespace}/${svc.name}/${svc.protocol}/p${svc.port}`;

export const nftServiceChain = (svc: ServiceSpec): string => `service-${hashAndTruncate(portBase(svc))}`;

export const nftEndpointChain = (svc: ServiceSpec, ep: Endpoint): string =>
  `endpoint-${hashAndTruncate(`${portBase(svc)}__${ep.ip}/${ep.port}`)}`;

const mapKey = (svc: ServiceSpec): string => `${svc.vip} . ${svc.protocol} . ${svc.port}`;

export interface NftServiceText {
  /** Chain and rule definitions for the service (add statements). */
  chains: string[];
  /** The `service-ips` element, "key : goto chain". */
  element: string;
  rules: number;
}

/** The chains kube-proxy's nftables mode writes for one service port. */
export function nftServiceText(svc: ServiceSpec): NftServiceText {
  const t = `ip ${NFT_TABLE}`;
  const svcChain = nftServiceChain(svc);
  const out: string[] = [];
  const eps = svc.endpoints;
  let rules = 0;
  for (const ep of eps) {
    const c = nftEndpointChain(svc, ep);
    out.push(`add chain ${t} ${c}`);
    out.push(`add rule ${t} ${c} ip saddr ${ep.ip} jump mark-for-masquerade`);
    out.push(`add rule ${t} ${c} meta l4proto ${svc.protocol} dnat to ${ep.ip}:${ep.port}`);
    rules += 2;
  }
  out.push(`add chain ${t} ${svcChain}`);
  out.push(`add rule ${t} ${svcChain} ip daddr ${svc.vip} ${svc.protocol} dport ${svc.port} ip saddr != ${CLUSTER_POD_CIDR} jump mark-for-masquerade`);
  rules += 1;
  if (eps.length > 0) {
    const vmap = eps.map((ep, i) => `${i} : goto ${nftEndpointChain(svc, ep)}`).join(' , ');
    out.push(`add rule ${t} ${svcChain} numgen random mod ${eps.length} vmap { ${vmap} }`);
    rules += 1;
  }
  return { chains: out, element: `${mapKey(svc)} : goto ${svcChain}`, rules };
}

/** Same count nftServiceText reports, without hashing names (describe() runs at 40k services). */
export const serviceRuleCount = (svc: ServiceSpec): number => 2 * svc.endpoints.length + 1 + (svc.endpoints.length > 0 ? 1 : 0);

export interface NftRuleset {
  text: string;
  rules: number;
  elements: number;
}

/** Base chains and maps: the part that does not depend on services. */
function baseText(): string[] {
  const t = `ip ${NFT_TABLE}`;
  return [
    `add table ${t} { comment "rules for kube-proxy" ; }`,
    `add map ${t} service-ips { type ipv4_addr . inet_proto . inet_service : verdict ; ${NFT_MAP_COUNTER} comment "ClusterIP, ExternalIP and LoadBalancer IP traffic" ; }`,
    `add chain ${t} mark-for-masquerade`,
    `add rule ${t} mark-for-masquerade meta mark set meta mark | ${MASQ_MARK}`,
    `add chain ${t} masquerading`,
    `add rule ${t} masquerading meta mark & ${MASQ_MARK} == 0 return`,
    `add rule ${t} masquerading meta mark set meta mark ^ ${MASQ_MARK}`,
    `add rule ${t} masquerading masquerade fully-random`,
    `add chain ${t} services`,
    `add rule ${t} services ip daddr . meta l4proto . th dport vmap @service-ips`,
    `add chain ${t} nat-prerouting { type nat hook prerouting priority dstnat ; }`,
    `add rule ${t} nat-prerouting jump services`,
    // -100 is dstnat: nft 1.0.6 (Debian 12) only accepts the name on prerouting.
    `add chain ${t} nat-output { type nat hook output priority -100 ; }`,
    `add rule ${t} nat-output jump services`,
    `add chain ${t} nat-postrouting { type nat hook postrouting priority srcnat ; }`,
    `add rule ${t} nat-postrouting jump masquerading`,
  ];
}
const BASE_RULES = 8;
/** Services per `nft -f` transaction during a bulk install. */
const INSTALL_BATCH = 500;

/**
 * One `nft -f -` transaction that replaces the whole table (add+delete makes the delete safe when
 * the table is absent). Elements go in chunks so no single line gets huge.
 */
export function nftRuleset(services: readonly ServiceSpec[]): NftRuleset {
  const t = `ip ${NFT_TABLE}`;
  const lines = [`add table ${t}`, `delete table ${t}`, ...baseText()];
  let rules = BASE_RULES;
  const elements: string[] = [];
  for (const svc of services) {
    const s = nftServiceText(svc);
    lines.push(...s.chains);
    rules += s.rules;
    elements.push(s.element);
  }
  for (let i = 0; i < elements.length; i += 1000) {
    lines.push(`add element ${t} service-ips { ${elements.slice(i, i + 1000).join(' , ')} }`);
  }
  return { text: `${lines.join('\n')}\n`, rules, elements: elements.length };
}

/** Incremental add, as kube-proxy's partial sync does: the chains, then the map element. */
export function nftAddServiceText(svc: ServiceSpec): string {
  const s = nftServiceText(svc);
  return `${[...s.chains, `add element ip ${NFT_TABLE} service-ips { ${s.element} }`].join('\n')}\n`;
}

/** Incremental remove: unmap first so no new connection enters, then flush and delete the chains. */
export function nftRemoveServiceText(svc: ServiceSpec): string {
  const t = `ip ${NFT_TABLE}`;
  const chains = [nftServiceChain(svc), ...svc.endpoints.map((ep) => nftEndpointChain(svc, ep))];
  return `${[
    `delete element ${t} service-ips { ${mapKey(svc)} }`,
    ...chains.map((c) => `flush chain ${t} ${c}`),
    ...chains.map((c) => `delete chain ${t} ${c}`),
  ].join('\n')}\n`;
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
    // transaction grows faster than linearly with the anonymous numgen maps it holds: measured
    // here, 10k services took 44 s as one transaction and 12 s in batches of 500. The rules that
    // end up in the kernel are identical; only the bulk loading differs from kube-proxy's first sync.
    await this.nft(nftRuleset([]).text);
    for (let i = 0; i < services.length; i += INSTALL_BATCH) {
      await this.nft(services.slice(i, i + INSTALL_BATCH).map(nftAddServiceText).join(''));
    }
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    this.services = new Map(services.map((s) => [s.index, s]));
    return { objects: this.ruleCount() + services.length, seconds };
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

  describe(): string {
    return `lab: kube-proxy-shaped nftables (${this.version || 'nft'}), ${this.ruleCount().toLocaleString('en-US')} rules, ${this.services.size.toLocaleString('en-US')} service-ips elements`;
  }

  private async nft(text: string): Promise<void> {
    await exec(['nft', '-f', '-'], { netns: this.ctx.nodeNs, input: text });
  }
}

export const createNftablesDatapath = (ctx: LabContext): Datapath => new NftablesDatapath(ctx);
