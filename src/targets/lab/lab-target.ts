import type { Metric } from '../../results/model.js';
import { decodeHistogram, toDistribution } from '../../results/histogram.js';
import { openLoopMetrics } from '../../load/metrics.js';
import { selfCheck } from '../../load/self-check.js';
import { spawnOpenLoop } from '../../load/spawn.js';
import type { OpenLoopConfig, TargetGroup } from '../../load/types.js';
import type { Trial } from '../../scenario/plan.js';
import type { DatapathName, Scenario } from '../../scenario/schema.js';
import type { Measurement, SwitchOutcome, Target } from '../target.js';
import { BACKEND_PORT, backgroundServices, type ServiceSpec } from './addressing.js';
import type { Datapath } from './datapaths/datapath.js';
import { createDatapath } from './datapaths/registry.js';
import { labDown, labUp, type Lab } from './topology.js';

/** Connections used to prove a freshly switched datapath carries VIP traffic. */
const VERIFY_CONNECTIONS = 40;

export class LabTarget implements Target {
  readonly kind = 'lab' as const;
  private lab: Lab | undefined;
  private dp: Datapath | undefined;
  private services: ServiceSpec[] = [];

  constructor(
    private readonly scenario: Scenario,
    private readonly onProgress: (line: string) => void = () => {},
  ) {}

  id: string | undefined;

  async prepare(): Promise<void> {
    const o = this.scenario.lab;
    this.lab = await labUp({ pods: o.pods, iptables: o.iptables, generatorCpu: o.generatorCpu, serverCpu: o.serverCpu, onProgress: this.onProgress });
    this.id = this.lab.id;
  }

  private get where() {
    const lab = this.lab!;
    return { netns: lab.clientNs, cgroup: lab.clientCgroup, cpu: lab.generatorCpu };
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
    const dp = createDatapath(datapath, lab);
    const why = await dp.unavailable();
    if (why) return { status: 'skipped', reason: why, implementation: dp.describe(), metrics: {} };
    this.services = backgroundServices(count, endpoints, lab.podIps.length);
    this.onProgress(`${datapath}: installing ${count} services × ${endpoints} endpoints`);
    this.dp = dp;
    const info = await dp.install(this.services);
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
    const lab = this.lab!;
    const dp = this.dp!;
    const l = trial.load;
    if (l.mode === 'closed') {
      return { status: 'skipped', reason: 'closed-loop load is not implemented in the lab target yet', metrics: {} };
    }
    const groups: TargetGroup[] = [this.vipGroup()];
    if (this.scenario.direct) groups.push({ name: 'direct', addresses: lab.podIps.map((host) => ({ host, port: BACKEND_PORT })) });
    const cfg: OpenLoopConfig = {
      groups,
      rate: l.rate!,
      arrival: l.arrival,
      durationS: l.duration,
      warmupS: l.warmup,
      connection: l.connection,
      connections: l.connections,
      timeoutS: l.timeout,
      seed: trial.repeat,
    };
    const before = await dp.decisions();
    const r = await spawnOpenLoop(cfg, this.where, signal);
    const seen = (await dp.decisions()) - before;
    const metrics = openLoopMetrics(r);
    metrics['datapath.decisions'] = { unit: 'count', value: seen };
    if (signal?.aborted) return { status: 'failed', reason: 'interrupted', metrics };
    const vip = r.groups.find((g) => g.name === 'vip')!;
    // New connections each take one decision; a keep-alive pool takes one per connection.
    const expected = l.connection === 'new' ? vip.ok : Math.min(1, vip.ok);
    const reasons = selfCheck({
      result: r,
      lagP99Us: toDistribution(decodeHistogram(r.scheduleLag)).p99,
      decisions: { seen, expected },
    });
    return reasons.length ? { status: 'invalid', reason: reasons.join('; '), metrics } : { status: 'ok', metrics };
  }

  async teardown(): Promise<void> {
    const dp = this.dp;
    this.dp = undefined;
    try {
      await dp?.uninstall();
    } finally {
      if (this.lab) {
        const lab = this.lab;
        this.lab = undefined;
        await labDown(lab);
      }
    }
  }
}
