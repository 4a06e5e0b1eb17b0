import { DpbenchError } from '../errors.js';
import type { ServiceSpec } from '../targets/lab/addressing.js';
import type { Datapath, InstallInfo, LabContext } from '../targets/lab/datapaths/datapath.js';
import { exec } from '../util/exec.js';
import { componentBinary, k8sBinDir, K8S_VERSION } from './binaries.js';
import type { ControlPlane } from './controlplane.js';
import { parseKubeProxyProgramming, type KubeProxyProgramming } from './kube-proxy-metrics.js';
import { startLabKubeProxy, type LabKubeProxy } from './lab-kube-proxy.js';

export interface RealKubeProxyOptions {
  cp: ControlPlane;
  mode: 'iptables' | 'nftables';
  binDir?: string;
  /** kube-proxy's own default is 1s; part of what real programming latency is. */
  minSyncPeriod?: string;
  /** How long add/remove may wait for kube-proxy to write the change. */
  programmingTimeoutMs?: number;
  /** Called with kube-proxy's PID once it runs, so a caller can record it for `dpbench cleanup`. */
  onProcess?: (p: { pid: number; comm: string }) => void | Promise<void>;
}

export interface RealKubeProxyDatapath extends Datapath {
  readonly name: 'iptables' | 'nftables';
  /** kube-proxy's own programming histograms (cumulative since it started). */
  programming(): Promise<KubeProxyProgramming>;
}

/**
 * kube-proxy's counters cannot prove traffic: nftables mode keeps none, and iptables mode rewrites
 * KUBE-SERVICES (resetting its counters) on every sync. So a table of our own counts connections
 * that were DNATed to a lab address: one rule on the first packet of each connection, outside
 * kube-proxy's tables so its transactions never see it.
 */
const COUNT_TABLE = 'dpbench-count';
const countTableText = `add table ip ${COUNT_TABLE}
delete table ip ${COUNT_TABLE}
add table ip ${COUNT_TABLE}
add chain ip ${COUNT_TABLE} post { type nat hook postrouting priority srcnat + 1 ; }
add rule ip ${COUNT_TABLE} post ct status dnat ip daddr 198.18.0.0/15 counter
`;

/**
 * The iptables and nftables datapaths programmed by the genuine kube-proxy through the apiserver
 * (`kubeProxy: real`). add/removeService return once kube-proxy has written the change to the
 * kernel, so timing them is the black-box programming latency; programming() gives kube-proxy's
 * own view of the same events.
 */
class RealKubeProxy implements RealKubeProxyDatapath {
  readonly name: 'iptables' | 'nftables';
  private kp: LabKubeProxy | undefined;
  private services = new Map<number, ServiceSpec>();
  private iptablesVersion = '';

  constructor(private readonly ctx: LabContext, private readonly o: RealKubeProxyOptions) {
    this.name = o.mode;
  }

  async unavailable(): Promise<string | null> {
    try {
      await componentBinary('kube-proxy', this.o.binDir ?? k8sBinDir());
    } catch (e) {
      // The reason ends up in a skipped trial, so it carries the way to fix it.
      return e instanceof DpbenchError ? `${e.message}: ${e.hint}` : (e as Error).message;
    }
    const tool = this.name === 'iptables' ? [`iptables-${this.ctx.iptables}`, '--version'] : ['nft', '--version'];
    const r = await exec(tool, { allowFailure: true }).catch(() => null);
    if (!r || r.code !== 0) return `${tool[0]} is not usable`;
    this.iptablesVersion = r.stdout.trim();
    return null;
  }

  async install(services: readonly ServiceSpec[]): Promise<InstallInfo> {
    const start = process.hrtime.bigint();
    if (!this.kp) {
      this.kp = await startLabKubeProxy({ cp: this.o.cp, lab: this.ctx, mode: this.o.mode, binDir: this.o.binDir, minSyncPeriod: this.o.minSyncPeriod });
      await this.o.onProcess?.({ pid: this.kp.proxy.process.pid, comm: 'kube-proxy' });
      // The relay is a node process inside node-a: deleting the namespace does not end it.
      await this.o.onProcess?.({ pid: this.kp.relay.process.pid, comm: 'node' });
      await exec(['nft', '-f', '-'], { netns: this.ctx.nodeNs, input: countTableText });
    }
    const stale = [...this.services.values()];
    if (stale.length) await this.kp.objects.removeServices(stale);
    this.services.clear();
    await this.kp.objects.addServices(services);
    for (const s of services) this.services.set(s.index, s);
    await this.waitFor(services, true, Math.max(this.timeout(), services.length * 20));
    return { objects: await this.objectCount(), seconds: Number(process.hrtime.bigint() - start) / 1e9 };
  }

  async addService(svc: ServiceSpec): Promise<void> {
    await this.need().objects.addServices([svc]);
    this.services.set(svc.index, svc);
    await this.waitFor([svc], true, this.timeout());
  }

  async removeService(svc: ServiceSpec): Promise<void> {
    await this.need().objects.removeServices([svc]);
    this.services.delete(svc.index);
    await this.waitFor([svc], false, this.timeout());
  }

  async decisions(): Promise<number> {
    const r = await exec(['nft', 'list', 'table', 'ip', COUNT_TABLE], { netns: this.ctx.nodeNs });
    return Number(/packets (\d+)/.exec(r.stdout)?.[1] ?? 0);
  }

  async programming(): Promise<KubeProxyProgramming> {
    return parseKubeProxyProgramming(await this.need().proxy.metrics());
  }

  async uninstall(): Promise<void> {
    const kp = this.kp;
    this.kp = undefined;
    if (!kp) return;
    const left = [...this.services.values()];
    this.services.clear();
    await kp.objects.removeServices(left).catch(() => {});
    await kp.stop();
    await exec(['nft', '-f', '-'], { netns: this.ctx.nodeNs, input: `add table ip ${COUNT_TABLE}\ndelete table ip ${COUNT_TABLE}\n`, allowFailure: true });
  }

  describe(): string {
    const tool = this.iptablesVersion ? ` (${this.iptablesVersion.replace(/^iptables /, 'iptables-')})` : '';
    return `lab: real kube-proxy ${K8S_VERSION} ${this.name}${tool}, ${this.services.size.toLocaleString('en-US')} services`;
  }

  private need(): LabKubeProxy {
    if (!this.kp) throw new Error('real kube-proxy datapath used before install()');
    return this.kp;
  }

  private timeout(): number {
    return this.o.programmingTimeoutMs ?? 60_000;
  }

  private async objectCount(): Promise<number> {
    if (this.name === 'iptables') {
      const r = await exec([`iptables-${this.ctx.iptables}-save`, '-t', 'nat'], { netns: this.ctx.nodeNs });
      return r.stdout.split('\n').filter((l) => l.startsWith('-A ')).length;
    }
    const r = await exec(['nft', 'list', 'table', 'ip', 'kube-proxy'], { netns: this.ctx.nodeNs });
    return r.stdout.split('\n').filter((l) => /^\t\t[a-z]/.test(l) && !/^\t\t(type|flags|comment|elements|hook)/.test(l)).length;
  }

  /** Polls the kernel until every service's VIP is (or is no longer) in kube-proxy's rules. */
  private async waitFor(services: readonly ServiceSpec[], present: boolean, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const want = new Set(services.map((s) => `${s.vip}:${s.port}`));
    for (;;) {
      const seen = await this.programmedVips();
      const done = [...want].every((k) => seen.has(k) === present);
      if (done) return;
      if (Date.now() > deadline) {
        throw new Error(`kube-proxy did not ${present ? 'program' : 'remove'} ${want.size} service(s) within ${timeoutMs} ms`);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  private async programmedVips(): Promise<Set<string>> {
    const out = new Set<string>();
    if (this.name === 'iptables') {
      const r = await exec([`iptables-${this.ctx.iptables}-save`, '-t', 'nat'], { netns: this.ctx.nodeNs });
      for (const m of r.stdout.matchAll(/^-A KUBE-SERVICES -d ([\d.]+)\/32 .*--dport (\d+) .*-j KUBE-SVC-/gm)) out.add(`${m[1]}:${m[2]}`);
    } else {
      const r = await exec(['nft', 'list', 'map', 'ip', 'kube-proxy', 'service-ips'], { netns: this.ctx.nodeNs, allowFailure: true });
      // udp too: the DNS probe's service is UDP.
      for (const m of r.stdout.matchAll(/([\d.]+) \. (?:tcp|udp) \. (\d+) : goto/g)) out.add(`${m[1]}:${m[2]}`);
    }
    return out;
  }
}

export const isRealKubeProxyDatapath = (dp: Datapath): dp is RealKubeProxyDatapath => dp instanceof RealKubeProxy;

export const createRealKubeProxyDatapath = (ctx: LabContext, o: RealKubeProxyOptions): RealKubeProxyDatapath =>
  new RealKubeProxy(ctx, o);
