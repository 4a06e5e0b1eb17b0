import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlPlane, type ControlPlane } from '../../src/controlplane/controlplane.js';
import {
  compareStructures,
  normalizeIptables,
  sortEndpointJumps,
  normalizeNft,
  parseIptablesSave,
  type AcceptedDifference,
} from '../../src/controlplane/fidelity.js';
import { startLabKubeProxy } from '../../src/controlplane/lab-kube-proxy.js';
import type { KubeProxyMode } from '../../src/controlplane/kube-proxy.js';
import { LabObjects } from '../../src/controlplane/lab-objects.js';
import { backgroundServices, type ServiceSpec } from '../../src/targets/lab/addressing.js';
import { createIptablesDatapath } from '../../src/targets/lab/datapaths/iptables.js';
import { createNftablesDatapath } from '../../src/targets/lab/datapaths/nftables.js';
import { labDown, labUp, type Lab } from '../../src/targets/lab/topology.js';
import { exec } from '../../src/util/exec.js';
import { logTail } from '../../src/controlplane/process.js';
import { KubeConfig } from '@kubernetes/client-node';
import { LAB_NODES } from '../../src/controlplane/lab-kube-proxy.js';

const PODS = 3;
const K = 3;
const SIZES = [100, 5_000] as const;

/**
 * Known differences, each with the reason it does not change what the lab measures. Everything
 * else fails the test. Keep docs/controlplane.md in step.
 */
const ACCEPTED: Record<KubeProxyMode, AcceptedDifference[]> = {
  iptables: [
    {
      match: /^only in real kube-proxy: KUBE-PROXY-CANARY \(0 rules\)$/,
      reason: 'kube-proxy\'s empty canary chain, used to notice a flushed table; nothing jumps to it',
    },
  ],
  nftables: [
    {
      // Only the header may differ, and only by the counter statement (\1: same type otherwise).
      match: /^map service-ips: rule 0 differs:\n {2}real: {2}(.*)\n {2}model: \1 stmt \[\{counter:null\}\]$/,
      reason:
        'the model\'s per-element counter on service-ips, its decisions() proof; nat hooks see only a ' +
        'connection\'s first packet, so it is one per-CPU counter add per new connection, nothing per packet',
    },
  ],
  ipvs: [],
};

async function dump(mode: KubeProxyMode, netns: string, iptables: 'nft' | 'legacy'): Promise<string> {
  // Before kube-proxy's first sync the table may not exist yet: that reads as "nothing programmed".
  if (mode === 'iptables') return (await exec([`iptables-${iptables}-save`, '-t', 'nat'], { netns, allowFailure: true })).stdout;
  return (await exec(['nft', '-j', 'list', 'table', 'ip', 'kube-proxy'], { netns, allowFailure: true })).stdout;
}

/** How many of `services` the dump already programs (kube-proxy's first sync can take seconds at 5,000). */
function programmed(mode: KubeProxyMode, text: string, services: readonly ServiceSpec[]): number {
  const vips = new Set(services.map((s) => s.vip));
  if (mode === 'iptables') {
    let n = 0;
    for (const m of text.matchAll(/^-A KUBE-SERVICES -d (\S+)\/32 .*-j KUBE-SVC-/gm)) if (vips.has(m[1]!)) n++;
    return n;
  }
  let n = 0;
  for (const m of text.matchAll(/"concat":\s*\[\s*"([\d.]+)"/g)) if (vips.has(m[1]!)) n++;
  return n;
}

describe('fidelity: real kube-proxy rules vs the lab model', () => {
  let lab: Lab | undefined;
  let cp: ControlPlane | undefined;
  let modelNs: string | undefined;
  let objects: LabObjects | undefined;
  let created = 0;
  const all = backgroundServices(SIZES[SIZES.length - 1]!, K, PODS);

  beforeAll(async () => {
    // iptables-legacy serialises on /run/xtables.lock, shared by every namespace on the machine;
    // iptables-nft does not, so other runs' big restores cannot stall kube-proxy's.
    lab = await labUp({ pods: PODS, iptables: 'nft' });
    // The controller manager plays no part in what kube-proxy writes; leave the CPU to kube-proxy.
    cp = await startControlPlane({ controllerManager: false });
    modelNs = `dpb-${lab.id}-model`;
    await exec(['ip', 'netns', 'add', modelNs]);
    const kc = new KubeConfig();
    kc.loadFromFile(cp.kubeconfig);
    objects = new LabObjects(kc, { runId: lab.id, nodes: LAB_NODES, concurrency: 32 });
  }, 240_000);

  afterAll(async () => {
    await cp?.stop();
    if (modelNs) await exec(['ip', 'netns', 'del', modelNs], { allowFailure: true });
    if (lab) await labDown(lab);
  }, 120_000);

  for (const size of SIZES) {
    for (const mode of ['iptables', 'nftables'] as const) {
      it(`${mode} at ${size} services × ${K} endpoints`, async () => {
        const services = all.slice(0, size);
        if (created < size) {
          await objects!.addServices(all.slice(created, size));
          created = size;
        }
        const kp = await startLabKubeProxy({ cp: cp!, lab: lab!, mode });
        let real: string;
        try {
          const deadline = Date.now() + 300_000;
          for (;;) {
            real = await dump(mode, lab!.nodeNs, lab!.iptables);
            if (programmed(mode, real, services) === size) break;
            if (Date.now() > deadline) {
              throw new Error(`kube-proxy programmed ${programmed(mode, real, services)}/${size} services:\n${await logTail(kp.proxy.process.logFile, 30)}`);
            }
            await new Promise((r) => setTimeout(r, 500));
          }
        } finally {
          await kp.stop();
        }
        const ctx = { ...lab!, nodeNs: modelNs! };
        const dp = mode === 'iptables' ? createIptablesDatapath(ctx) : createNftablesDatapath(ctx);
        await dp.install(services);
        const model = await dump(mode, modelNs!, lab!.iptables);
        await dp.uninstall();

        const [r, m] =
          mode === 'iptables'
            ? [normalizeIptables(parseIptablesSave(real!)), normalizeIptables(parseIptablesSave(model))]
            : [normalizeNft(real!), normalizeNft(model)];
        const opts = {
          // kube-proxy fills KUBE-SERVICES from a Go map: its order is random run to run.
          unordered: (c: string) => c === 'KUBE-SERVICES',
          accepted: ACCEPTED[mode],
        };
        const strict = compareStructures(r, m, opts);
        const report = compareStructures(sortEndpointJumps(r), sortEndpointJumps(m), opts);
        console.log(
          `${mode} ${size}: ${r.size} real chains/maps, ${m.size} model; strict differences ${strict.differences.length} ` +
            `(endpoint order only: ${strict.differences.length - report.differences.length}); accepted: ${report.accepted.join('; ') || 'none'}`,
        );
        // Differences are listed (the first 40) so a failure says exactly where the model drifts.
        expect(report.differences.slice(0, 40), `${report.differences.length} differences`).toEqual([]);
      }, 600_000);
    }
  }
});
