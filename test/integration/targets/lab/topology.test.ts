import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { CLIENT_IP, serviceVip } from '../../../../src/targets/lab/addressing.js';
import { labDown, labUp, type Lab } from '../../../../src/targets/lab/topology.js';
import { exec } from '../../../../src/util/exec.js';
import { hostRules, labNamespaces } from '../../helpers/host.js';

describe('lab topology (root, real namespaces)', () => {
  const before = hostRules();
  let lab: Lab | undefined;
  afterAll(async () => {
    if (lab) await labDown(lab);
  });

  it('builds isolated namespaces where the client reaches every pod through node-a and node-b', async () => {
    lab = await labUp({ pods: 2, iptables: 'auto' });
    expect(labNamespaces(lab.id).sort()).toEqual(
      [`dpb-${lab.id}-client`, `dpb-${lab.id}-node-a`, `dpb-${lab.id}-node-b`, `dpb-${lab.id}-pod-0`, `dpb-${lab.id}-pod-1`].sort(),
    );
    for (const ip of lab.podIps) {
      const r = await exec(['curl', '-s', '--max-time', '2', `http://${ip}:8080/`], { netns: lab.clientNs });
      expect(r.stdout).toBe('ok\n');
    }
    // The server sees the client's real pod address (no NAT without a datapath).
    const route = await exec(['ip', 'route', 'get', CLIENT_IP], { netns: lab.serverNs[0]! });
    expect(route.stdout).toContain('via 198.18.2.1');
  });

  it('has no way out: only lab addresses are routable from the client', async () => {
    const r = await exec(['ip', 'route', 'get', '1.1.1.1'], { netns: lab!.nodeNs, allowFailure: true });
    expect(r.code).not.toBe(0);
    const links = (await exec(['ip', '-o', 'link'], { netns: lab!.nodeNs })).stdout;
    expect(links.split('\n').filter(Boolean).map((l) => l.split(':')[1]!.trim().split('@')[0])).toEqual(['lo', 'eth0', 'veth-client']);
  });

  it('steers node-a\'s receive work off the generator CPU and gives the client monotonic TCP timestamps', async () => {
    const l = lab!;
    const rps = await exec(['ip', 'netns', 'exec', l.nodeNs, 'cat', '/sys/class/net/veth-client/queues/rx-0/rps_cpus']);
    if (l.serverCpu === undefined) expect(Number.parseInt(rps.stdout.replace(/,/g, ''), 16)).toBe(0);
    else expect(BigInt(`0x${rps.stdout.trim().replace(/,/g, '')}`)).toBe(1n << BigInt(l.serverCpu));
    const ts = await exec(['sysctl', '-n', 'net.ipv4.tcp_timestamps'], { netns: l.clientNs });
    expect(ts.stdout.trim()).toBe('2');
  });

  it('fails fast for a VIP no datapath handles', async () => {
    const t0 = Date.now();
    const r = await exec(['curl', '-s', '--max-time', '3', `http://${serviceVip(5)}/`], { netns: lab!.clientNs, allowFailure: true });
    expect(r.code).not.toBe(0);
    expect(Date.now() - t0).toBeLessThan(1500);
  });

  it('tears down everything and leaves the host rules untouched', async () => {
    const l = lab!;
    lab = undefined;
    const removed = await labDown(l);
    expect(removed.filter((r) => r.startsWith('netns'))).toHaveLength(5);
    expect(removed.filter((r) => r.startsWith('process nginx'))).toHaveLength(2);
    expect(labNamespaces(l.id)).toEqual([]);
    expect(existsSync(l.runDir)).toBe(false);
    expect(hostRules()).toBe(before);
    // Idempotent: a second teardown finds nothing to do.
    expect(await labDown(l)).toEqual([]);
  });
});
