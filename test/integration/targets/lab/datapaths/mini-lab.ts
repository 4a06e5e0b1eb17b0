import { beforeAll, expect, it } from 'vitest';
import type { DatapathName } from '../../../../../src/scenario/schema.js';
import { backgroundServices } from '../../../../../src/targets/lab/addressing.js';
import type { Lab } from '../../../../../src/targets/lab/topology.js';
import { exec } from '../../../../../src/util/exec.js';
import { labWithDatapath } from '../../../helpers/lab-datapath.js';

/**
 * Helpers for the datapath integration tests. The lab itself is the real topology (labUp); this
 * file only adds what the tests need to look at it from outside.
 */

/** Runs argv in the client pod: its network namespace and, for socket-level eBPF, its cgroup. */
export function inClient(lab: Lab, argv: readonly string[], input?: string) {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const script = `echo $$ > ${q(`${lab.clientCgroup}/cgroup.procs`)} && exec ${argv.map(q).join(' ')}`;
  return exec(['sh', '-c', script], { netns: lab.clientNs, allowFailure: true, input, timeoutMs: 10_000 });
}

/** One new connection from the client pod to http://ip:port/; resolves to the body, or null. */
export async function curlFromClient(lab: Lab, ip: string, port = 80): Promise<string | null> {
  const r = await inClient(lab, ['curl', '-s', '--max-time', '2', '-H', 'Connection: close', `http://${ip}:${port}/`]);
  return r.code === 0 ? r.stdout : null;
}

/**
 * The host's own rules, with counters and timestamps stripped (they move with host traffic),
 * so before/after equality means dpbench never touched the host namespace.
 */
export async function hostRules(): Promise<string> {
  const parts: string[] = [];
  for (const argv of [['iptables-nft-save'], ['iptables-legacy-save'], ['nft', 'list', 'ruleset']]) {
    const r = await exec(argv, { allowFailure: true });
    parts.push(
      `## ${argv.join(' ')} (exit ${r.code})`,
      r.stdout
        .split('\n')
        .filter((l) => !l.startsWith('#'))
        .join('\n')
        .replace(/\[\d+:\d+\]/g, '[]')
        .replace(/packets \d+ bytes \d+/g, 'packets bytes'),
    );
  }
  return parts.join('\n');
}

export interface ContractOptions {
  name: DatapathName;
  iptables: 'nft' | 'legacy';
  /** What of this datapath is still in the lab (empty string when nothing). */
  leftovers: (lab: Lab) => Promise<string>;
  describeMatches: RegExp;
}

/**
 * The behaviour every datapath must show on the real kernel: install, carry traffic to a VIP,
 * count it, stop answering for a removed service, answer again when re-added, uninstall cleanly,
 * and never touch the host namespace.
 */
export function datapathContract(o: ContractOptions): void {
  let hostBefore: string;
  const services = backgroundServices(50, 2, 2);
  const probe = services[7]!;
  const other = services[42]!;

  // Registered first, so the host's rules are read before the lab exists.
  beforeAll(async () => {
    hostBefore = await hostRules();
  });
  const t = labWithDatapath(o.name, { iptables: o.iptables });

  it('is available on this kernel', async () => {
    expect(await t.dp.unavailable()).toBeNull();
  });

  it('carries and counts traffic to a VIP, and forgets a removed service', async () => {
    const info = await t.dp.install(services);
    expect(info.objects).toBeGreaterThanOrEqual(services.length);
    expect(t.dp.describe()).toMatch(o.describeMatches);

    const before = await t.dp.decisions();
    expect(await curlFromClient(t.lab, probe.vip)).toBe('ok\n');
    expect(await curlFromClient(t.lab, other.vip)).toBe('ok\n');
    expect(await t.dp.decisions()).toBe(before + 2);

    await t.dp.removeService(probe);
    expect(await curlFromClient(t.lab, probe.vip)).toBeNull();
    expect(await curlFromClient(t.lab, other.vip)).toBe('ok\n');

    await t.dp.addService(probe);
    expect(await curlFromClient(t.lab, probe.vip)).toBe('ok\n');
  }, 60_000);

  it('uninstalls everything, twice, and never touches the host namespace', async () => {
    expect(await o.leftovers(t.lab)).not.toBe('');
    await t.dp.uninstall();
    await t.dp.uninstall();
    expect(await o.leftovers(t.lab)).toBe('');
    expect(await curlFromClient(t.lab, other.vip)).toBeNull();
    expect(await hostRules()).toBe(hostBefore);
  }, 60_000);
}
