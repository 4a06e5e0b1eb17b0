import { existsSync } from 'node:fs';
import { exec } from '../../../util/exec.js';
import { CLUSTER_POD_CIDR, type ServiceSpec } from '../addressing.js';
import type { Datapath, InstallInfo, LabContext } from './datapath.js';
import { MASQ_MARK } from './iptables.js';

export const IPVS_DUMMY = 'kube-ipvs0';
export const IPVS_IPSET = 'KUBE-CLUSTER-IP';

const flag = (svc: ServiceSpec): string => (svc.protocol === 'udp' ? '-u' : '-t');

/** `ipvsadm --restore` input: one rr virtual server per service port, one masq real server per endpoint. */
export function ipvsadmRestore(services: readonly ServiceSpec[]): string {
  const out: string[] = [];
  for (const svc of services) {
    out.push(`-A ${flag(svc)} ${svc.vip}:${svc.port} -s rr`);
    for (const ep of svc.endpoints) out.push(`-a ${flag(svc)} ${svc.vip}:${svc.port} -r ${ep.ip}:${ep.port} -m -w 1`);
  }
  return out.length ? `${out.join('\n')}\n` : '';
}

/** `ipset restore` input for KUBE-CLUSTER-IP (hash:ip,port), which the masquerade rule matches. */
export function ipsetRestore(services: readonly ServiceSpec[]): string {
  const out = [
    `create ${IPVS_IPSET} hash:ip,port family inet hashsize 1024 maxelem 131072 comment -exist`,
    `flush ${IPVS_IPSET}`,
  ];
  for (const svc of services) out.push(`add ${IPVS_IPSET} ${svc.vip},${svc.protocol}:${svc.port} -exist`);
  return `${out.join('\n')}\n`;
}

/** `ip -batch -` input putting every VIP on the dummy interface, as kube-proxy's ipvs mode does. */
export function dummyAddrBatch(services: readonly ServiceSpec[], op: 'add' | 'del' = 'add'): string {
  const vips = [...new Set(services.map((s) => s.vip))];
  return vips.length ? `${vips.map((v) => `addr ${op} ${v}/32 dev ${IPVS_DUMMY}`).join('\n')}\n` : '';
}

/** The nat rules kube-proxy's ipvs mode keeps: masquerade off-cluster traffic to a service IP. */
export function ipvsNatRules(): string {
  return [
    '*nat',
    ':KUBE-SERVICES - [0:0]',
    ':KUBE-POSTROUTING - [0:0]',
    ':KUBE-MARK-MASQ - [0:0]',
    `-A KUBE-SERVICES -m comment --comment "Kubernetes service cluster ip + port for masquerade purpose" -m set --match-set ${IPVS_IPSET} dst,dst ! -s ${CLUSTER_POD_CIDR} -j KUBE-MARK-MASQ`,
    `-A KUBE-SERVICES -m set --match-set ${IPVS_IPSET} dst,dst -j ACCEPT`,
    `-A KUBE-MARK-MASQ -j MARK --or-mark ${MASQ_MARK}`,
    `-A KUBE-POSTROUTING -m mark ! --mark ${MASQ_MARK}/${MASQ_MARK} -j RETURN`,
    `-A KUBE-POSTROUTING -j MARK --xor-mark ${MASQ_MARK}`,
    '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
    'COMMIT',
    '',
  ].join('\n');
}

/** strictARP and conntrack, as kube-proxy sets them in ipvs mode. */
export const IPVS_SYSCTLS: Readonly<Record<string, string>> = {
  'net.ipv4.vs.conntrack': '1',
  'net.ipv4.conf.all.arp_ignore': '1',
  'net.ipv4.conf.all.arp_announce': '2',
};

/** Sum of the Conns column over virtual servers in `ipvsadm -Ln --stats`. */
export function sumIpvsConns(stats: string): number {
  let total = 0;
  for (const line of stats.split('\n')) {
    const m = /^(TCP|UDP)\s+\S+\s+(\d+)/.exec(line);
    if (m) total += Number(m[2]);
  }
  return total;
}

const JUMPS: readonly (readonly string[])[] = [
  ['PREROUTING', '-m', 'comment', '--comment', 'kubernetes service portals', '-j', 'KUBE-SERVICES'],
  ['OUTPUT', '-m', 'comment', '--comment', 'kubernetes service portals', '-j', 'KUBE-SERVICES'],
  ['POSTROUTING', '-m', 'comment', '--comment', 'kubernetes postrouting rules', '-j', 'KUBE-POSTROUTING'],
];

class IpvsDatapath implements Datapath {
  readonly name = 'ipvs' as const;
  private services = new Map<number, ServiceSpec>();

  constructor(private readonly ctx: LabContext) {}

  private run(argv: string[], input?: string, allowFailure = false) {
    return exec(argv, { netns: this.ctx.nodeNs, input, allowFailure });
  }

  async unavailable(): Promise<string | null> {
    // /proc/net is per network namespace: ask node-a's, where the virtual servers would live.
    const proc = await this.run(['test', '-e', '/proc/net/ip_vs'], undefined, true);
    const adm = await exec(['ipvsadm', '-Ln'], { netns: this.ctx.nodeNs, allowFailure: true }).catch(() => null);
    if (!adm) return 'ipvsadm is not installed (Debian package ipvsadm)';
    if (proc.code !== 0 || adm.code !== 0) {
      const why = adm.stderr.trim().split('\n')[0] || 'no /proc/net/ip_vs';
      return `kernel has no IP_VS (CONFIG_IP_VS not set and no loadable ip_vs module; /proc/net/ip_vs missing, \`ipvsadm -Ln\`: ${why})`;
    }
    if (!existsSync('/usr/sbin/ipset') && !existsSync('/sbin/ipset')) return 'ipset is not installed (Debian package ipset)';
    // kube-proxy's ipvs mode holds VIPs on a dummy device; without the dummy driver it cannot run.
    const probe = `dpbdummy${process.pid % 100000}`;
    const d = await this.run(['ip', 'link', 'add', probe, 'type', 'dummy'], undefined, true);
    if (d.code !== 0) return `kernel has no dummy interface driver (CONFIG_DUMMY), which kube-proxy's ipvs mode needs: ${d.stderr.trim()}`;
    await this.run(['ip', 'link', 'del', probe], undefined, true);
    return null;
  }

  async install(services: readonly ServiceSpec[]): Promise<InstallInfo> {
    await this.uninstall();
    const start = process.hrtime.bigint();
    for (const [k, v] of Object.entries(IPVS_SYSCTLS)) await this.run(['sysctl', '-qw', `${k}=${v}`]);
    await this.run(['ip', 'link', 'add', IPVS_DUMMY, 'type', 'dummy']);
    await this.run(['ip', '-batch', '-'], dummyAddrBatch(services));
    await this.run(['ipset', 'restore'], ipsetRestore(services));
    await this.run([`iptables-${this.ctx.iptables}-restore`, '--noflush'], ipvsNatRules());
    for (const j of JUMPS) await this.run([`iptables-${this.ctx.iptables}`, '-t', 'nat', '-I', ...j]);
    await this.run(['ipvsadm', '--restore'], ipvsadmRestore(services));
    this.services = new Map(services.map((s) => [s.index, s]));
    let objects = 0;
    for (const s of services) objects += 1 + s.endpoints.length;
    return { objects, seconds: Number(process.hrtime.bigint() - start) / 1e9 };
  }

  async addService(svc: ServiceSpec): Promise<void> {
    if (this.services.has(svc.index)) await this.removeService(this.services.get(svc.index)!);
    await this.run(['ip', 'addr', 'add', `${svc.vip}/32`, 'dev', IPVS_DUMMY]);
    await this.run(['ipset', 'add', IPVS_IPSET, `${svc.vip},${svc.protocol}:${svc.port}`, '-exist']);
    await this.run(['ipvsadm', '--restore'], ipvsadmRestore([svc]));
    this.services.set(svc.index, svc);
  }

  async removeService(svc: ServiceSpec): Promise<void> {
    await this.run(['ipvsadm', '-D', flag(svc), `${svc.vip}:${svc.port}`], undefined, true);
    await this.run(['ipset', 'del', IPVS_IPSET, `${svc.vip},${svc.protocol}:${svc.port}`, '-exist'], undefined, true);
    await this.run(['ip', 'addr', 'del', `${svc.vip}/32`, 'dev', IPVS_DUMMY], undefined, true);
    this.services.delete(svc.index);
  }

  async decisions(): Promise<number> {
    return sumIpvsConns((await this.run(['ipvsadm', '-Ln', '--stats'])).stdout);
  }

  async uninstall(): Promise<void> {
    await this.run(['ipvsadm', '-C'], undefined, true);
    const ipt = `iptables-${this.ctx.iptables}`;
    for (const j of JUMPS) {
      for (let i = 0; i < 4; i++) if ((await this.run([ipt, '-t', 'nat', '-D', ...j], undefined, true)).code !== 0) break;
    }
    const chains = ['KUBE-SERVICES', 'KUBE-POSTROUTING', 'KUBE-MARK-MASQ'];
    await this.run(
      [`${ipt}-restore`, '--noflush'],
      ['*nat', ...chains.map((c) => `:${c} - [0:0]`), ...chains.map((c) => `-X ${c}`), 'COMMIT', ''].join('\n'),
      true,
    );
    await this.run(['ipset', 'destroy', IPVS_IPSET], undefined, true);
    await this.run(['ip', 'link', 'del', IPVS_DUMMY], undefined, true);
    this.services.clear();
  }

  describe(): string {
    let reals = 0;
    for (const s of this.services.values()) reals += s.endpoints.length;
    return `lab: kube-proxy-shaped ipvs (ipvsadm, rr), ${this.services.size.toLocaleString('en-US')} virtual servers, ${reals.toLocaleString('en-US')} real servers`;
  }
}

export const createIpvsDatapath = (ctx: LabContext): Datapath => new IpvsDatapath(ctx);
