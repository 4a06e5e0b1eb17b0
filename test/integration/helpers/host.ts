import { execFileSync } from 'node:child_process';

/** The host namespace's rules: the lab must leave them exactly as they were. */
export function hostRules(): string {
  const ipt = execFileSync('iptables-save', { encoding: 'utf8' }).replace(/^#.*$/gm, '');
  const nft = execFileSync('nft', ['list', 'ruleset'], { encoding: 'utf8' });
  return `${ipt}\n${nft}`;
}

export function labNamespaces(id?: string): string[] {
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n.startsWith(id ? `dpb-${id}-` : 'dpb-'));
}

export function pidsOf(comm: string): number[] {
  return execFileSync('ps', ['-eo', 'pid,comm', '--no-headers'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((p) => p[1] === comm)
    .map((p) => Number(p[0]));
}
