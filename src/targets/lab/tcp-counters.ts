import { exec } from '../../util/exec.js';

/**
 * The kernel's TCP extension counters (/proc/net/netstat, per network namespace), as name → value.
 * The file holds pairs of lines: a header `TcpExt: A B …` and the values `TcpExt: 1 2 …`.
 */
export function parseNetstat(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  const lines = text.split('\n');
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const [kind, ...names] = lines[i]!.trim().split(/\s+/);
    const [kind2, ...values] = lines[i + 1]!.trim().split(/\s+/);
    if (!kind || kind !== kind2) continue;
    const prefix = kind.replace(/:$/, '');
    names.forEach((n, k) => {
      out[`${prefix}${n}`] = Number(values[k]);
    });
  }
  return out;
}

export async function readNetstat(netns: string): Promise<Record<string, number>> {
  return parseNetstat((await exec(['cat', '/proc/net/netstat'], { netns })).stdout);
}

/**
 * SYNs the client had to send again during a trial. Each one is a connection that waited a full
 * initial RTO (1 s): a dropped SYN or SYN-ACK shows up in p99 as a second, so the count says
 * whether a tail is the datapath dropping packets rather than the datapath being slow.
 */
export const SYN_RETRANSMITS = 'TcpExtTCPSynRetrans';

/** Runs `fn` and counts the SYNs the client in `netns` retransmitted meanwhile. */
export async function countingSynRetransmits<T>(netns: string, fn: () => Promise<T>): Promise<{ result: T; synRetransmits: number }> {
  const before = (await readNetstat(netns))[SYN_RETRANSMITS] ?? 0;
  const result = await fn();
  const after = (await readNetstat(netns))[SYN_RETRANSMITS] ?? 0;
  return { result, synRetransmits: after - before };
}
