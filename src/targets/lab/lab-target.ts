import type { Metric } from '../../results/model.js';
import { decodeHistogram, toDistribution } from '../../results/histogram.js';
import { CLOSED_NEW_CONNECTION_UNSUPPORTED } from '../../load/closed-loop.js';
import { closedLoopMetrics, openLoopMetrics } from '../../load/metrics.js';
import { DEFAULT_LIMITS, expectedDecisions, selfCheck, selfCheckClosed, type SelfCheckLimits } from '../../load/self-check.js';
import { spawnClosedLoop, spawnOpenLoop } from '../../load/spawn.js';
import type { OpenLoopConfig, TargetGroup } from '../../load/types.js';
import type { Trial } from '../../scenario/plan.js';
import { isRealKubeProxyMode, PROBES_LOAD_NAME, type DatapathName, type Scenario } from '../../scenario/schema.js';
import { runConnectProbe } from '../../probes/connect.js';
import { runDnsProbe } from '../../probes/dns.js';
import { runProgrammingProbe } from '../../probes/programming.js';
import type { Measurement, SwitchOutcome, Target } from '../target.js';
import { BACKEND_PORT, backgroundServices, dnsService, probeService, type ServiceSpec } from './addressing.js';
import { startDnsServer, type DnsServer } from './dns.js';
import type { Datapath } from './datapaths/datapath.js';
import { createDatapath } from './datapaths/registry.js';
import { runMaxRateTrial } from './max-rate-trial.js';
import { LAB_NICE } from './backends.js';
import { startRealKubeProxyBackend, type RealKubeProxyBackend } from '../../controlplane/lab-real-kube-proxy.js';
import { isRealKubeProxyDatapath } from '../../controlplane/real-kube-proxy-datapath.js';
import { kubeProxyProbeMetrics } from '../../controlplane/kube-proxy-probe-metrics.js';
import { saveState } from './state.js';
import { labDown, labUp, type Lab } from './topology.js';
import { countingSynRetransmits } from './tcp-counters.js';

/** Connections used to prove a freshly switched datapath carries VIP traffic. */
const VERIFY_CONNECTIONS = 40;

export class LabTarget implements Target {
  readonly kind = 'lab' as const;
  private lab: Lab | undefined;
  private dp: Datapath | undefined;
  private services: ServiceSpec[] = [];
  /** dnsmasq in the DNS pod, serving records for the current background services (dns probe only). */
  private dnsServer: DnsServer | undefined;
  /** etcd + kube-apiserver behind `kubeProxy: real`, for the whole run. */
  private kubeProxy: RealKubeProxyBackend | undefined;

  constructor(
    private readonly scenario: Scenario,
    private readonly onProgress: (line: string) => void = () => {},
  ) {}

  id: string | undefined;

  async prepare(): Promise<void> {
    const o = this.scenario.lab;
    this.lab = await labUp({
      pods: o.pods,
      iptables: o.iptables,
      generatorCpu: o.generatorCpu,
      serverCpu: o.serverCpu,
      dns: !!this.scenario.probes.dns,
      onProgress: this.onProgress,
    });
    this.id = this.lab.id;
    if (o.kubeProxy === 'real' && this.scenario.datapaths.some(isRealKubeProxyMode)) {
      const state = this.lab.state;
      this.kubeProxy = await startRealKubeProxyBackend({
        onProgress: this.onProgress,
        cpu: this.lab.serverCpu,
        parentDir: this.lab.runDir,
        // In the lab's state before anything else happens, so `dpbench cleanup` can stop them
        // if this process is killed outright.
        onProcess: async (p) => {
          state.processes.push(p);
          await saveState(state);
        },
      });
    }
  }

  private get limits(): SelfCheckLimits {
    return { ...DEFAULT_LIMITS, maxLagP99Us: this.scenario.selfCheck.maxLagP99 };
  }

  private get where() {
    const lab = this.lab!;
    return { netns: lab.clientNs, cgroup: lab.clientCgroup, cpu: lab.generatorCpu, nice: LAB_NICE };
  }

  /** The VIPs probe traffic goes to: position decides where in iptables' KUBE-SERVICES they sit. */
  private vipGroup(): TargetGroup {
    const pos = this.scenario.services.position;
    const chosen = pos === 'first' ? this.services.slice(0, 1) : pos === 'last' ? this.services.slice(-1) : this.services;
    return { name: 'vip', addresses: chosen.map((s) => ({ host: s.vip, port: s.port })) };
  }

  async switchTo(datapath: DatapathName, count: number, endpoints: number): Promise<SwitchOutcome> {
    const lab = this.lab!;
    if (this.dp) {
      await this.dp.uninstall();
      this.dp = undefined;
    }
    // kubeProxy: real hands iptables and nftables to the genuine kube-proxy; the others keep the lab's.
    const dp = this.kubeProxy && isRealKubeProxyMode(datapath) ? this.kubeProxy.datapath(lab, datapath) : createDatapath(datapath, lab);
    const why = await dp.unavailable();
    if (why) return { status: 'skipped', reason: why, implementation: dp.describe(), metrics: {} };
    this.services = backgroundServices(count, endpoints, lab.podIps.length);
    this.onProgress(`${datapath}: installing ${count} services × ${endpoints} endpoints`);
    this.dp = dp;
    // The DNS service (UDP) goes through the datapath under test, installed with the background services.
    const withDns = !!this.scenario.probes.dns;
    if (withDns && this.dnsServer?.services !== count) {
      this.onProgress(`dns: dnsmasq with ${count} service records`);
      this.dnsServer = await startDnsServer(lab, this.services, this.dnsServer);
    }
    const info = await dp.install(withDns ? [...this.services, dnsService(count)] : this.services);
    const metrics: Record<string, Metric> = {
      'datapath.installSeconds': { unit: 's', value: Math.round(info.seconds * 1000) / 1000 },
      'datapath.objects': { unit: 'count', value: info.objects },
    };
    // Verification is part of a switch: new connections through VIPs must be counted by the datapath.
    const before = await dp.decisions();
    const r = await spawnOpenLoop(
      {
        groups: [this.vipGroup()],
        rate: 400,
        arrival: 'constant',
        durationS: VERIFY_CONNECTIONS / 400,
        warmupS: 0,
        connection: 'new',
        connections: 1,
        timeoutS: 2,
        seed: 7,
      },
      this.where,
    );
    const seen = (await dp.decisions()) - before;
    const ok = r.groups[0]!.ok;
    if (ok < VERIFY_CONNECTIONS || seen < ok) {
      return {
        status: 'failed',
        reason: `verification failed: ${ok}/${VERIFY_CONNECTIONS} VIP requests answered, datapath counted ${seen} decisions (errors: ${JSON.stringify(r.groups[0]!.errors)})`,
        implementation: dp.describe(),
        metrics,
      };
    }
    metrics['datapath.verifyDecisions'] = { unit: 'count', value: seen };
    return { status: 'ok', implementation: dp.describe(), metrics };
  }

  async measure(trial: Trial, signal?: AbortSignal): Promise<Measurement> {
    if (trial.load.name === PROBES_LOAD_NAME) return this.measureProbes(trial, signal);
    const l = trial.load;
    if (l.mode === 'closed') {
      if (l.connection === 'new') return { status: 'skipped', reason: CLOSED_NEW_CONNECTION_UNSUPPORTED, metrics: {} };
      const r = await spawnClosedLoop({ groups: this.loadGroups(), durationS: l.duration, warmupS: l.warmup, connections: l.connections,
        pipelining: l.pipelining, connection: l.connection, timeoutS: l.timeout }, this.where, signal);
      const metrics = closedLoopMetrics(r);
      if (signal?.aborted) return { status: 'failed', reason: 'interrupted', metrics };
      const reasons = selfCheckClosed(r);
      return reasons.length ? { status: 'invalid', reason: reasons.join('; '), metrics } : { status: 'ok', metrics };
    }
    // Over the whole trial, every step of a search included: a retransmitted SYN is a second in a p99.
    const { result: m, synRetransmits } = await countingSynRetransmits(this.lab!.clientNs, () => this.measureOpenLoop(trial, signal));
    m.metrics['tcp.synRetransmits'] = { unit: 'count', value: synRetransmits };
    return m;
  }

  /** The VIP group, and the direct-to-pod group when the scenario compares the two. */
  private loadGroups(): TargetGroup[] {
    const groups: TargetGroup[] = [this.vipGroup()];
    if (this.scenario.direct) groups.push({ name: 'direct', addresses: this.lab!.podIps.map((host) => ({ host, port: BACKEND_PORT })) });
    return groups;
  }

  /** An open-loop load at its fixed rate, or the max-rate search over such runs. */
  private async measureOpenLoop(trial: Trial, signal?: AbortSignal): Promise<Measurement> {
    const dp = this.dp!;
    const l = trial.load;
    const base: Omit<OpenLoopConfig, 'rate'> = {
      groups: this.loadGroups(),
      arrival: l.arrival,
      durationS: l.duration,
      warmupS: l.warmup,
      connection: l.connection,
      connections: l.connections,
      timeoutS: l.timeout,
      seed: trial.repeat,
    };
    const runStep = async (cfg: OpenLoopConfig) => {
      const before = await dp.decisions();
      const result = await spawnOpenLoop(cfg, this.where, signal);
      return { result, decisions: (await dp.decisions()) - before };
    };
    const search = l.search;
    if (search) {
      return runMaxRateTrial({
        search,
        limits: this.limits,
        base,
        runStep,
        onStep: (rate, k) => this.onProgress(`${trial.id}: max-rate step ${k}/${search.maxSteps} at ${Math.round(rate)} req/s`),
        signal,
      });
    }
    const { result: r, decisions: seen } = await runStep({ ...base, rate: l.rate! });
    const metrics = openLoopMetrics(r);
    metrics['datapath.decisions'] = { unit: 'count', value: seen };
    if (signal?.aborted) return { status: 'failed', reason: 'interrupted', metrics };
    const expected = expectedDecisions(l.connection, r.groups.find((g) => g.name === 'vip')!.ok);
    const reasons = selfCheck(
      { result: r, lagP99Us: toDistribution(decodeHistogram(r.scheduleLag)).p99, decisions: { seen, expected } },
      this.limits,
    );
    return reasons.length ? { status: 'invalid', reason: reasons.join('; '), metrics } : { status: 'ok', metrics };
  }

  /**
   * Service-resolution probes: connect (VIP vs direct), DNS through the DNS VIP, programming
   * latency. A probe that lost more than 1% of its attempts makes the trial invalid, with the
   * counts in the reason; its numbers stay in run.json but are not presented as the result.
   */
  private async measureProbes(trial: Trial, signal?: AbortSignal): Promise<Measurement> {
    const lab = this.lab!;
    const dp = this.dp!;
    const p = this.scenario.probes;
    const metrics: Record<string, Metric> = {};
    const problems: string[] = [];
    const tooMany = (errors: number, attempts: number) => errors > attempts * 0.01;
    if (p.connect) {
      this.onProgress(`${trial.id}: connect probe, ${p.connect.samples} × 3 connections`);
      const before = await dp.decisions();
      const r = await runConnectProbe(this.services, lab.podIps, BACKEND_PORT, p.connect, this.where, trial.repeat, signal);
      const seen = (await dp.decisions()) - before;
      Object.assign(metrics, r.metrics);
      metrics['connect.decisions'] = { unit: 'count', value: seen };
      if (tooMany(r.errors, r.attempts)) problems.push(`connect: ${r.errors}/${r.attempts} connections failed ${JSON.stringify(r.errorCodes)}`);
      // Every VIP connection must have gone through the datapath under test, or the numbers are not its.
      if (seen < r.vipConnections) problems.push(`connect: the datapath counted ${seen} decisions for ${r.vipConnections} VIP connections`);
    }
    if (p.dns && !signal?.aborted) {
      this.onProgress(`${trial.id}: dns probe, ${p.dns.samples} × 2 lookups`);
      const r = await runDnsProbe(this.services, p.dns, this.where, trial.repeat, signal);
      Object.assign(metrics, r.metrics);
      if (tooMany(r.errors, r.attempts)) problems.push(`dns: ${r.errors}/${r.attempts} lookups failed ${JSON.stringify(r.errorCodes)}`);
    }
    if (p.programming && !signal?.aborted) {
      this.onProgress(`${trial.id}: programming probe, ${p.programming.changes} adds and removes`);
      const base = this.services.length;
      // With real kube-proxy, its own histograms over the same window sit beside the black-box times.
      const kpBefore = isRealKubeProxyDatapath(dp) ? await dp.programming() : undefined;
      const r = await runProgrammingProbe(
        dp,
        (k) => probeService(k, base, trial.endpoints, lab.podIps.length),
        p.programming,
        this.where,
        lab.runDir,
        signal,
      );
      Object.assign(metrics, r.metrics);
      if (kpBefore && isRealKubeProxyDatapath(dp)) Object.assign(metrics, kubeProxyProbeMetrics(kpBefore, await dp.programming()));
      if (r.errors.length) problems.push(`programming: ${r.errors.length}/${p.programming.changes} changes not timed (${r.errors.slice(0, 3).join('; ')})`);
    }
    if (signal?.aborted) return { status: 'failed', reason: 'interrupted', metrics };
    return problems.length ? { status: 'invalid', reason: problems.join('; '), metrics } : { status: 'ok', metrics };
  }

  async teardown(): Promise<void> {
    const dp = this.dp;
    const kubeProxy = this.kubeProxy;
    this.dp = undefined;
    this.kubeProxy = undefined;
    this.dnsServer = undefined;
    try {
      await dp?.uninstall();
    } finally {
      try {
        // After the datapath: real kube-proxy's uninstall still talks to the apiserver.
        await kubeProxy?.stop();
      } finally {
        if (this.lab) {
          const lab = this.lab;
          this.lab = undefined;
          await labDown(lab);
        }
      }
    }
  }
}
