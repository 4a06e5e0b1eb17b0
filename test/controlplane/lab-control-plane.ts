import { existsSync } from 'node:fs';
import { afterAll, beforeAll, expect } from 'vitest';
import { startControlPlane, type ControlPlane } from '../../src/controlplane/controlplane.js';
import { labDown, labUp, type Lab } from '../../src/targets/lab/topology.js';
import { exec } from '../../src/util/exec.js';

/**
 * A lab and a control plane (etcd + kube-apiserver) for the enclosing describe block. afterAll
 * stops both and checks that every process recorded in `pids` (the control plane's, and any the
 * tests push) is gone. Read `t.lab`, `t.cp` inside the tests.
 */
export function labWithControlPlane(pods: number): { lab: Lab; cp: ControlPlane; pids: number[] } {
  const t = { pids: [] as number[] } as { lab: Lab; cp: ControlPlane; pids: number[] };
  beforeAll(async () => {
    // iptables-legacy serialises on /run/xtables.lock, shared by every namespace on the machine;
    // iptables-nft does not, so other runs' big restores cannot stall kube-proxy's.
    t.lab = await labUp({ pods, iptables: 'nft' });
    // kube-proxy needs only the API; the controller manager is covered by controlplane.test.ts.
    t.cp = await startControlPlane({ controllerManager: false, onProcess: (p) => void t.pids.push(p.pid) });
  }, 240_000);
  afterAll(async () => {
    await t.cp?.stop();
    if (t.lab) await labDown(t.lab);
    for (const pid of t.pids) expect(existsSync(`/proc/${pid}`), `pid ${pid} still running`).toBe(false);
  }, 120_000);
  return t;
}

/** One new connection from the client pod to the VIP; the body, or null when nothing answered. */
export async function curlVip(lab: Lab, vip: string): Promise<string | null> {
  const r = await exec(['curl', '-s', '--max-time', '2', '-H', 'Connection: close', `http://${vip}:80/`], {
    netns: lab.clientNs,
    allowFailure: true,
  });
  return r.code === 0 ? r.stdout : null;
}
