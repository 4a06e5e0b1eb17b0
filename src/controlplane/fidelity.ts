/**
 * Structural comparison of the rules real kube-proxy writes with the ones the lab's model writes.
 * Hashed names are replaced by what they stand for (the VIP and endpoint a chain serves), so two
 * rulesets compare equal exactly when they have the same chains, the same rules in each chain,
 * the same matches, probabilities and marks.
 */

/** Chain name → its rules, in order, with hashed names resolved. */
export type RuleStructure = Map<string, string[]>;

export interface FidelityReport {
  /** Every structural difference, one line each; empty means the model matches. */
  differences: string[];
  /** Differences that are known and documented (docs/controlplane.md), with the reason they do not change the cost. */
  accepted: string[];
  real: RuleStructure;
  model: RuleStructure;
}

/** A known difference: a predicate over the difference line and the reason it is accepted. */
export interface AcceptedDifference {
  match: RegExp;
  reason: string;
}

/** The apiserver's own Service exists only on the real side; it is not part of the lab's services. */
const APISERVER_SERVICE = 'default/kubernetes';

/** Parses the nat table of `iptables-save` output into chains and rules (counters dropped). */
export function parseIptablesSave(text: string): RuleStructure {
  const out: RuleStructure = new Map();
  let inNat = false;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/^\[\d+:\d+\] /, '').trim();
    if (line.startsWith('*')) inNat = line === '*nat';
    if (!inNat) continue;
    if (line.startsWith(':')) out.set(line.slice(1).split(' ')[0]!, out.get(line.slice(1).split(' ')[0]!) ?? []);
    else if (line.startsWith('-A ')) {
      const [, chain, ...rest] = line.split(' ');
      if (!out.has(chain!)) out.set(chain!, []);
      out.get(chain!)!.push(rest.join(' '));
    }
  }
  return out;
}

/**
 * Renames KUBE-SVC-<hash> to KUBE-SVC[vip:port/proto] and KUBE-SEP-<hash> to
 * KUBE-SEP[vip:port/proto>ip:port], and drops the apiserver's own service.
 */
export function normalizeIptables(parsed: RuleStructure): RuleStructure {
  const rename = new Map<string, string>();
  const drop = new Set<string>();
  for (const rule of parsed.get('KUBE-SERVICES') ?? []) {
    const target = /-j (KUBE-SVC-\w+)/.exec(rule)?.[1];
    if (!target) continue;
    const vip = /-d (\S+)\/32/.exec(rule)?.[1];
    const port = /--dport (\d+)/.exec(rule)?.[1];
    const proto = /-p (\w+)/.exec(rule)?.[1];
    const key = `${vip}:${port}/${proto}`;
    if (rule.includes(`"${APISERVER_SERVICE}`)) drop.add(target);
    rename.set(target, `KUBE-SVC[${key}]`);
    for (const r of parsed.get(target) ?? []) {
      const sep = /-j (KUBE-SEP-\w+)/.exec(r)?.[1];
      if (!sep) continue;
      const dest = (parsed.get(sep) ?? []).map((x) => /--to-destination (\S+)/.exec(x)?.[1]).find(Boolean);
      rename.set(sep, `KUBE-SEP[${key}>${dest}]`);
      if (drop.has(target)) drop.add(sep);
    }
  }
  const sub = (s: string) => s.replace(/KUBE-(SVC|SEP)-\w+/g, (m) => rename.get(m) ?? m);
  const out: RuleStructure = new Map();
  for (const [chain, rules] of parsed) {
    if (drop.has(chain)) continue;
    const kept = rules.filter((r) => !r.includes(`"${APISERVER_SERVICE}`) && ![...drop].some((d) => r.endsWith(`-j ${d}`)));
    out.set(sub(chain), kept.map(sub));
  }
  return out;
}

/** A JSON expression of `nft -j` rendered back to one compact line (stable key order). */
function render(x: unknown): string {
  if (Array.isArray(x)) return `[${x.map(render).join(',')}]`;
  if (x && typeof x === 'object') {
    return `{${Object.keys(x).sort().map((k) => `${k}:${render((x as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(x);
}

/** nft's hashAndTruncate prefix: the readable part after it is already unique. */
const unhash = (s: string) => s.replace(/^(service|endpoint|external|firewall)-[A-Z2-7]{8}-/, '$1-');

/**
 * A set element with statements or a comment is `{elem: {val, counter, comment, …}}` in nft's
 * JSON; the value alone is what identifies it (counters and comments are not structure).
 */
function unwrapElem(e: unknown): unknown {
  const inner = (e as { elem?: { val?: unknown } } | null)?.elem;
  return inner && typeof inner === 'object' && 'val' in inner ? inner.val : e;
}

/**
 * Parses `nft -j list table ip kube-proxy` into chains (with hook info as a pseudo-rule), maps and
 * sets (elements as sorted pseudo-rules), with hashed chain names removed and the apiserver's
 * own service dropped.
 */
export function normalizeNft(json: string): RuleStructure {
  const doc = JSON.parse(json) as { nftables: Record<string, Record<string, unknown>>[] };
  const out: RuleStructure = new Map();
  const deepUnhash = (x: unknown): unknown => {
    if (typeof x === 'string') return unhash(x);
    if (Array.isArray(x)) return x.map(deepUnhash);
    if (x && typeof x === 'object') return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, deepUnhash(v)]));
    return x;
  };
  const isApiserver = (s: string) => s.includes(`-${APISERVER_SERVICE}/`) || s.includes(`${APISERVER_SERVICE}/`);
  // The apiserver's ClusterIP (found through its service-ips element) is also in @cluster-ips,
  // where an element is a bare address with no name to recognise it by.
  const apiserverVips = new Set<string>();
  for (const item of doc.nftables) {
    for (const e of (item.map?.elem as unknown[] | undefined) ?? []) {
      const [key, verdict] = e as [unknown, unknown];
      const vip = (unwrapElem(key) as { concat?: unknown[] }).concat?.[0];
      if (typeof vip === 'string' && isApiserver(render(verdict))) apiserverVips.add(vip);
    }
  }
  const isApiserverIp = (rendered: string) => [...apiserverVips].some((v) => rendered.includes(JSON.stringify(v)));
  for (const item of doc.nftables) {
    const [kind, body] = Object.entries(item)[0] as [string, Record<string, unknown>];
    if (kind === 'chain') {
      const name = unhash(body.name as string);
      if (isApiserver(name)) continue;
      const hook = body.hook ? [`hook ${render({ type: body.type, hook: body.hook, prio: body.prio, policy: body.policy })}`] : [];
      out.set(`chain ${name}`, [...(out.get(`chain ${name}`) ?? []), ...hook]);
    } else if (kind === 'rule') {
      const chain = `chain ${unhash(body.chain as string)}`;
      if (isApiserver(chain)) continue;
      const expr = deepUnhash(body.expr) as unknown[];
      // Counter values differ run to run; the statement itself is kept.
      const rule = render(expr).replace(/\{bytes:\d+,packets:\d+\}/g, '{}');
      if (!out.has(chain)) out.set(chain, []);
      out.get(chain)!.push(rule);
    } else if (kind === 'map' || kind === 'set') {
      const elems = ((body.elem as unknown[]) ?? [])
        .map((e) => render(deepUnhash(Array.isArray(e) ? e.map(unwrapElem) : unwrapElem(e))))
        .filter((e) => !isApiserver(e) && !isApiserverIp(e));
      // A set's element statements (e.g. `counter`) show once, in the header; the per-element
      // counter values differ run to run and are dropped from the elements by unwrapElem.
      const header =
        `type ${render(body.type)}${body.map ? ` : ${render(body.map)}` : ''}${body.flags ? ` flags ${render(body.flags)}` : ''}` +
        `${body.stmt ? ` stmt ${render(body.stmt)}` : ''}`;
      out.set(`${kind} ${body.name as string}`, [header, ...elems.sort()]);
    } else if (kind === 'counter') {
      out.set(`counter ${body.name as string}`, []);
    }
  }
  return out;
}

/** Compares two structures; `ordered(chain)` says whether rule order matters in that chain. */
export function compareStructures(
  real: RuleStructure,
  model: RuleStructure,
  opts: { unordered?: (chain: string) => boolean; accepted?: readonly AcceptedDifference[] } = {},
): FidelityReport {
  const all: string[] = [];
  for (const chain of new Set([...real.keys(), ...model.keys()])) {
    const r = real.get(chain);
    const m = model.get(chain);
    if (!r) {
      all.push(`only in model: ${chain}`);
      continue;
    }
    if (!m) {
      all.push(`only in real kube-proxy: ${chain} (${r.length} rules)`);
      continue;
    }
    if (opts.unordered?.(chain)) {
      // A multiset comparison: one extra rule must not shift every rule after it.
      const count = new Map<string, number>();
      for (const x of r) count.set(x, (count.get(x) ?? 0) + 1);
      for (const x of m) count.set(x, (count.get(x) ?? 0) - 1);
      for (const [x, c] of count) {
        if (c > 0) all.push(`${chain}: only in real kube-proxy: ${x}`);
        if (c < 0) all.push(`${chain}: only in model: ${x}`);
      }
      continue;
    }
    const [a, b] = [r, m];
    const n = Math.max(a.length, b.length);
    for (let i = 0; i < n; i++) {
      if (a[i] === b[i]) continue;
      if (a[i] === undefined) all.push(`${chain}: only in model: ${b[i]}`);
      else if (b[i] === undefined) all.push(`${chain}: only in real kube-proxy: ${a[i]}`);
      else all.push(`${chain}: rule ${i} differs:\n  real:  ${a[i]}\n  model: ${b[i]}`);
    }
  }
  const accepted: string[] = [];
  const differences: string[] = [];
  for (const d of all) {
    const ok = opts.accepted?.find((x) => x.match.test(d));
    if (ok) accepted.push(`${d.split('\n')[0]} — ${ok.reason}`);
    else differences.push(d);
  }
  return { differences, accepted, real, model };
}

/**
 * Real kube-proxy orders a service's endpoints by address; a model may list them in another
 * order. Which endpoint holds which probability slot does not change the cost (same chain
 * length, same probabilities in the same positions), so this puts the targets in a canonical
 * order while keeping each position's probability. Used for the second, cost-level comparison.
 */
export function sortEndpointJumps(s: RuleStructure): RuleStructure {
  const out: RuleStructure = new Map();
  for (const [chain, rules] of s) {
    if (chain.startsWith('KUBE-SVC[')) {
      const jumps = rules.map((r, i) => ({ r, i })).filter(({ r }) => / -j KUBE-SEP\[/.test(r));
      const targets = jumps.map(({ r }) => ({
        comment: /--comment "[^"]*"/.exec(r)?.[0] ?? '',
        target: /-j KUBE-SEP\[\S+\]/.exec(r)![0],
      }));
      targets.sort((a, b) => (a.target < b.target ? -1 : a.target > b.target ? 1 : 0));
      const next = [...rules];
      jumps.forEach(({ r, i }, k) => {
        const t = targets[k]!;
        next[i] = r.replace(/--comment "[^"]*"/, t.comment).replace(/-j KUBE-SEP\[\S+\]/, t.target);
      });
      out.set(chain, next);
    } else if (chain.startsWith('chain service-')) {
      out.set(
        chain,
        rules.map((r) => {
          const found = [...r.matchAll(/goto:\{target:"(endpoint-[^"]+)"\}/g)].map((m) => m[1]!).sort();
          let k = 0;
          return r.replace(/goto:\{target:"(endpoint-[^"]+)"\}/g, () => `goto:{target:"${found[k++]}"}`);
        }),
      );
    } else out.set(chain, rules);
  }
  return out;
}
