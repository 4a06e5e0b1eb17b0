import { createHash } from 'node:crypto';
import { exec } from '../../../util/exec.js';
import { CLUSTER_POD_CIDR, ipToInt, type Endpoint, type ServiceSpec } from '../addressing.js';
import { flushUdpConntrack, type Datapath, type InstallInfo, type LabContext } from './datapath.js';

export interface IptablesRuleset {
  /** iptables-restore input for the nat table (to be loaded with --noflush). */
  text: string;
  /** `-A` lines: the figure reports quote. */
  rules: number;
  /** Every chain this ruleset owns (stale chains excluded). */
  chains: string[];
}

/** kube-proxy's mark for "masquerade this connection" (--masquerade-bit 14). */
export const MASQ_MARK = '0x4000';

/** base32(sha256(s)), the encoding kube-proxy derives chain names from. */
export function base32Sha256(s: string): string {
  const bytes = createHash('sha256').update(s).digest();
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
}

/** kube-proxy's ServicePortName string: "ns/name:portname". Our ports are unnamed, so p<port>. */
export const servicePortName = (svc: ServiceSpec): string => `${svc.namespace}/${svc.name}:p${svc.port}`;

export const svcChainName = (svc: ServiceSpec): string =>
  `KUBE-SVC-${base32Sha256(servicePortName(svc) + svc.protocol).slice(0, 16)}`;

export const sepChainName = (svc: ServiceSpec, ep: { ip: string; port: number }): string =>
  `KUBE-SEP-${base32Sha256(servicePortName(svc) + svc.protocol + `${ep.ip}:${ep.port}`).slice(0, 16)}`;

/**
 * Above this many endpoints kube-proxy drops the per-endpoint comments (largeClusterEndpointsThreshold
 * in pkg/proxy/iptables/proxier.go), which shrinks its iptables-restore input; found by the
 * fidelity test against real kube-proxy v1.37.2 at 5,000 services.
 */
export const LARGE_CLUSTER_ENDPOINTS = 1000;

const byAddress = (eps: readonly Endpoint[]) =>
  [...eps].sort((a, b) => ipToInt(a.ip) - ipToInt(b.ip) || a.port - b.port);

/** Probability kube-proxy writes for endpoint i of n: the remaining share, to 10 decimals. */
export const endpointProbability = (i: number, n: number): string => (1 / (n - i)).toFixed(10);

/** Jumps from the built-in chains, ensured once (kube-proxy uses -C then -I for these too). */
export const JUMP_RULES: readonly (readonly string[])[] = [
  ['PREROUTING', '-m', 'comment', '--comment', 'kubernetes service portals', '-j', 'KUBE-SERVICES'],
  ['OUTPUT', '-m', 'comment', '--comment', 'kubernetes service portals', '-j', 'KUBE-SERVICES'],
  ['POSTROUTING', '-m', 'comment', '--comment', 'kubernetes postrouting rules', '-j', 'KUBE-POSTROUTING'],
];

/** The chains and rules of one service port, as kube-proxy writes them. */
function serviceNatRules(svc: ServiceSpec, large: boolean): { chains: string[]; jump: string; rules: string[] } {
  const comment = (text: string) => (large ? '' : ` -m comment --comment ${text}`);
  const n = svc.endpoints.length;
  const spn = servicePortName(svc);
  const proto = svc.protocol;
  const svcChain = svcChainName(svc);
  const chains = [svcChain];
  const rules = [
    `-A ${svcChain} -m comment --comment "${spn} cluster IP" -m ${proto} -p ${proto} -d ${svc.vip}/32 --dport ${svc.port} ! -s ${CLUSTER_POD_CIDR} -j KUBE-MARK-MASQ`,
  ];
  // kube-proxy writes a service's endpoints sorted by address (found by the fidelity test).
  byAddress(svc.endpoints).forEach((ep, i) => {
    const sep = sepChainName(svc, ep);
    chains.push(sep);
    const stat = i < n - 1 ? ` -m statistic --mode random --probability ${endpointProbability(i, n)}` : '';
    rules.push(`-A ${svcChain}${comment(`"${spn} -> ${ep.ip}:${ep.port}"`)}${stat} -j ${sep}`);
    rules.push(`-A ${sep}${comment(spn)} -s ${ep.ip}/32 -j KUBE-MARK-MASQ`);
    rules.push(`-A ${sep}${comment(spn)} -m ${proto} -p ${proto} -j DNAT --to-destination ${ep.ip}:${ep.port}`);
  });
  const jump = `-A KUBE-SERVICES -m comment --comment "${spn} cluster IP" -m ${proto} -p ${proto} -d ${svc.vip}/32 --dport ${svc.port} -j ${svcChain}`;
  return { chains, jump, rules };
}

const BASE_CHAINS = ['KUBE-SERVICES', 'KUBE-NODEPORTS', 'KUBE-POSTROUTING', 'KUBE-MARK-MASQ'];
const BASE_RULES = [
  `-A KUBE-POSTROUTING -m mark ! --mark ${MASQ_MARK}/${MASQ_MARK} -j RETURN`,
  `-A KUBE-POSTROUTING -j MARK --xor-mark ${MASQ_MARK}`,
  `-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully`,
  `-A KUBE-MARK-MASQ -j MARK --or-mark ${MASQ_MARK}`,
];
const NODEPORTS_RULE =
  '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS';
/** kube-proxy's large-cluster mode: past 1,000 endpoints it drops the per-endpoint comments. */
const isLarge = (services: readonly ServiceSpec[]) => services.reduce((n, svc) => n + svc.endpoints.length, 0) > LARGE_CLUSTER_ENDPOINTS;

/**
 * One iptables-restore input for `services` (all with endpoints). `first` declares (flushes)
 * kube-proxy's base chains and writes their rules; `last` appends the nodeports rule, which must
 * end KUBE-SERVICES; `stale` chains are declared then removed with -X.
 */
function natRestore(
  services: readonly ServiceSpec[],
  large: boolean,
  o: { first: boolean; last: boolean; stale?: readonly string[] },
): IptablesRuleset {
  const chains = o.first ? [...BASE_CHAINS] : [];
  const jumps: string[] = [];
  const svcRules: string[] = [];
  for (const svc of services) {
    const r = serviceNatRules(svc, large);
    chains.push(...r.chains);
    jumps.push(r.jump);
    svcRules.push(...r.rules);
  }
  const rules = [...(o.first ? BASE_RULES : []), ...jumps, ...(o.last ? [NODEPORTS_RULE] : [])];
  const live = new Set(chains);
  const stale = (o.stale ?? []).filter((c) => !live.has(c));
  const text = [
    '*nat',
    ...chains.map((c) => `:${c} - [0:0]`),
    ...stale.map((c) => `:${c} - [0:0]`),
    ...rules,
    ...svcRules,
    ...stale.map((c) => `-X ${c}`),
    'COMMIT',
    '',
  ].join('\n');
  return { text, rules: rules.length + svcRules.length, chains };
}

const withEndpoints = (services: readonly ServiceSpec[]) => services.filter((s) => s.endpoints.length > 0);

/**
 * The nat table content kube-proxy's iptables mode writes on a full sync: every chain it owns is
 * declared (which flushes it under --noflush) and rewritten, and chains of deleted services are
 * declared then removed with -X. Services without endpoints get no nat rules (kube-proxy REJECTs
 * them in the filter table, which is not part of the NAT cost measured here).
 */
export function iptablesNatRules(services: readonly ServiceSpec[], staleChains: readonly string[] = []): IptablesRuleset {
  return natRestore(withEndpoints(services), isLarge(services), { first: true, last: true, stale: staleChains });
}

/**
 * The same end state as iptablesNatRules, as several restores of `batch` services each: the first
 * declares (flushes) kube-proxy's base chains, every one appends its services' KUBE-SERVICES jumps
 * in order, and the last appends the nodeports rule. For bulk installs only: iptables-nft-restore
 * 1.8.9 is quadratic within one restore (its time is user-space strcmp, chain-name lookups) and
 * linear across restores. Measured with 5,000 services: one restore 12.5 s, ten of 500 2.0 s in
 * all (the last as fast as the first); 20,000 in one restore took 852 s.
 */
export function iptablesInstallBatches(services: readonly ServiceSpec[], batch: number): IptablesRuleset[] {
  const large = isLarge(services);
  const all = withEndpoints(services);
  const out: IptablesRuleset[] = [];
  for (let i = 0; i === 0 || i < all.length; i += batch) {
    out.push(natRestore(all.slice(i, i + batch), large, { first: i === 0, last: i + batch >= all.length }));
  }
  return out;
}

/**
 * Sum of packet counters on the KUBE-SVC-* jumps in `iptables -t nat -L KUBE-SERVICES -n -v -x`
 * output. Listing one chain, rather than iptables-save of the table, lets iptables-nft fetch only
 * that chain (3.5x faster at 1k services).
 */
export function sumServiceJumpPackets(listing: string): number {
  let total = 0;
  for (const line of listing.split('\n')) {
    const m = /^\s*(\d+)\s+\d+\s+KUBE-SVC-/.exec(line);
    if (m) total += Number(m[1]);
  }
  return total;
}

/** KUBE-* chains present in `iptables-save -t nat` output (so cleanup works from a fresh process). */
export function kubeChainsIn(save: string): string[] {
  const out: string[] = [];
  for (const line of save.split('\n')) if (line.startsWith(':KUBE-')) out.push(line.slice(1).split(' ')[0]!);
  return out;
}

class IptablesDatapath implements Datapath {
  readonly name = 'iptables' as const;
  private services = new Map<number, ServiceSpec>();
  private owned: string[] = [];
  private rules = 0;
  private version = '';

  constructor(private readonly ctx: LabContext) {}

  private bin(tool: '' | '-save' | '-restore'): string {
    return `iptables-${this.ctx.iptables}${tool}`;
  }

  async unavailable(): Promise<string | null> {
    const r = await exec([this.bin(''), '--version'], { allowFailure: true }).catch(() => null);
    if (!r || r.code !== 0) return `${this.bin('')} is not usable: ${r?.stderr.trim() || 'not installed (Debian package iptables)'}`;
    this.version = r.stdout.trim();
    const t = await exec([this.bin(''), '-t', 'nat', '-L', '-n'], { netns: this.ctx.nodeNs, allowFailure: true });
    if (t.code !== 0) return `${this.bin('')} cannot use the nat table: ${t.stderr.trim()}`;
    return null;
  }

  async install(services: readonly ServiceSpec[]): Promise<InstallInfo> {
    const start = process.hrtime.bigint();
    this.services = new Map(services.map((s) => [s.index, s]));
    await this.ensureJumps();
    // In batches (see iptablesInstallBatches); changes after this are full syncs, as kube-proxy's.
    const ordered = [...this.services.values()].sort((a, b) => a.index - b.index);
    this.owned = [];
    this.rules = 0;
    for (const set of iptablesInstallBatches(ordered, INSTALL_BATCH)) {
      await exec([this.bin('-restore'), '--noflush'], { netns: this.ctx.nodeNs, input: set.text });
      this.owned.push(...set.chains);
      this.rules += set.rules;
    }
    return { objects: this.rules, seconds: Number(process.hrtime.bigint() - start) / 1e9 };
  }

  async addService(svc: ServiceSpec): Promise<void> {
    this.services.set(svc.index, svc);
    await this.sync();
  }

  async removeService(svc: ServiceSpec): Promise<void> {
    this.services.delete(svc.index);
    await this.sync();
    await flushUdpConntrack(this.ctx, svc);
  }

  /**
   * nat rules see only a connection's first packet, so packets on the KUBE-SERVICES → KUBE-SVC
   * jumps count NAT decisions. A sync rewrites KUBE-SERVICES and so zeroes them, exactly as
   * kube-proxy's restores do: compare readings taken between two syncs only.
   */
  async decisions(): Promise<number> {
    const r = await exec([this.bin(''), '-t', 'nat', '-L', 'KUBE-SERVICES', '-n', '-v', '-x'], { netns: this.ctx.nodeNs });
    return sumServiceJumpPackets(r.stdout);
  }

  async uninstall(): Promise<void> {
    for (const rule of JUMP_RULES) {
      // -D fails once the rule is gone; looping until it does also removes duplicates.
      for (let i = 0; i < 4; i++) {
        const r = await exec([this.bin(''), '-t', 'nat', '-D', ...rule], { netns: this.ctx.nodeNs, allowFailure: true });
        if (r.code !== 0) break;
      }
    }
    const save = await exec([this.bin('-save'), '-t', 'nat'], { netns: this.ctx.nodeNs, allowFailure: true });
    const chains = save.code === 0 ? kubeChainsIn(save.stdout) : [];
    // In batches, as install: first flush every chain (declaring one under --noflush empties it,
    // which drops the jumps between them), then delete them, now that nothing refers to them.
    const step = INSTALL_BATCH * 3;
    for (const del of [false, true]) {
      for (let i = 0; i < chains.length; i += step) {
        const part = chains.slice(i, i + step);
        const text = ['*nat', ...part.map((c) => `:${c} - [0:0]`), ...(del ? part.map((c) => `-X ${c}`) : []), 'COMMIT', ''].join('\n');
        await exec([this.bin('-restore'), '--noflush'], { netns: this.ctx.nodeNs, input: text });
      }
    }
    this.services.clear();
    this.owned = [];
    this.rules = 0;
  }

  describe(): string {
    const v = /v[\d.]+/.exec(this.version)?.[0];
    const impl = `iptables-${this.ctx.iptables}${v ? ` ${v}` : ''}`;
    return `lab: kube-proxy-shaped iptables (${impl}), ${this.rules.toLocaleString('en-US')} rules`;
  }

  private async ensureJumps(): Promise<void> {
    // The chains must exist before a built-in chain can jump to them.
    await exec([this.bin('-restore'), '--noflush'], {
      netns: this.ctx.nodeNs,
      input: '*nat\n:KUBE-SERVICES - [0:0]\n:KUBE-POSTROUTING - [0:0]\nCOMMIT\n',
    });
    for (const rule of JUMP_RULES) {
      const c = await exec([this.bin(''), '-t', 'nat', '-C', ...rule], { netns: this.ctx.nodeNs, allowFailure: true });
      if (c.code !== 0) await exec([this.bin(''), '-t', 'nat', '-I', ...rule], { netns: this.ctx.nodeNs });
    }
  }

  /** A full sync, as kube-proxy does on every change: this is why its programming latency grows with size. */
  private async sync(): Promise<void> {
    const ordered = [...this.services.values()].sort((a, b) => a.index - b.index);
    const set = iptablesNatRules(ordered, this.owned);
    await exec([this.bin('-restore'), '--noflush', '--counters'], { netns: this.ctx.nodeNs, input: set.text });
    this.owned = set.chains;
    this.rules = set.rules;
  }
}

/** Services per iptables-restore in a bulk install. */
const INSTALL_BATCH = 500;

export const createIptablesDatapath = (ctx: LabContext): Datapath => new IptablesDatapath(ctx);
