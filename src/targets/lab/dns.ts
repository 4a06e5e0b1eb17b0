import { spawn } from 'node:child_process';
import { mkdir, open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { environment } from '../../errors.js';
import { exec, hasCommand } from '../../util/exec.js';
import { DNS_POD_IP, DNS_PORT, type ServiceSpec } from './addressing.js';
import { saveState } from './state.js';
import { stopProcess, type Lab } from './topology.js';

/** The cluster domain and the namespace the background services live in (svc-N.bench.svc.cluster.local). */
export const CLUSTER_DOMAIN = 'cluster.local';
export const SERVICE_NAMESPACE = 'bench';
/**
 * The "external" name of the search-path probe. No packet may leave the lab, so dnsmasq answers it
 * itself, standing in for an upstream resolver that answers instantly: dns.lookup.external is the
 * search-path cost through the datapath, without any upstream's own latency.
 */
export const EXTERNAL_NAME = 'dpbench-external.example';

export const serviceFqdn = (svc: Pick<ServiceSpec, 'name' | 'namespace'>): string =>
  `${svc.name}.${svc.namespace}.svc.${CLUSTER_DOMAIN}`;

/**
 * The names a pod's resolver tries for `name` with Kubernetes' resolv.conf (ndots:5, search
 * <ns>.svc.cluster.local svc.cluster.local cluster.local): a name with fewer than 5 dots goes
 * through every search domain before it is tried as it is.
 */
export function searchPath(name: string, namespace = SERVICE_NAMESPACE, ndots = 5): string[] {
  const search = [`${namespace}.svc.${CLUSTER_DOMAIN}`, `svc.${CLUSTER_DOMAIN}`, CLUSTER_DOMAIN];
  const dots = name.split('.').length - 1;
  const expanded = search.map((d) => `${name}.${d}`);
  return dots >= ndots ? [name, ...expanded] : [...expanded, name];
}

/** addn-hosts content: one line per service. dnsmasq hashes these, so 40k names cost no more per lookup than 10. */
export function hostsFile(services: readonly ServiceSpec[]): string {
  return `${services.map((s) => `${s.vip} ${serviceFqdn(s)}`).join('\n')}\n`;
}

/**
 * dnsmasq as the lab's cluster DNS: authoritative-style for cluster.local (NXDOMAIN for unknown
 * names) and with no upstream at all (no-resolv and no server lines), so nothing leaves the lab.
 */
export function dnsmasqArgs(dir: string): string[] {
  return [
    '--keep-in-foreground',
    '--log-facility=-',
    '--conf-file=/dev/null',
    '--no-resolv',
    '--no-hosts',
    '--no-poll',
    `--addn-hosts=${join(dir, 'hosts')}`,
    `--local=/${CLUSTER_DOMAIN}/`,
    '--local=/example/',
    `--host-record=${EXTERNAL_NAME},${DNS_POD_IP}`,
    `--listen-address=${DNS_POD_IP}`,
    '--bind-interfaces',
    `--port=${DNS_PORT}`,
    `--pid-file=${join(dir, 'dnsmasq.pid')}`,
    '--user=nobody',
    '--group=nogroup',
    // TTL 0 (dnsmasq's default for local names) keeps any resolver cache out of the measurement.
    '--local-ttl=0',
    '--dns-forward-max=10000',
  ];
}

export interface DnsServer {
  pid: number;
  services: number;
}

/**
 * (Re)starts dnsmasq in the lab's DNS pod with a record for every service, records its PID in the
 * lab state (so teardown and `dpbench cleanup` stop it), and waits until it answers for the last
 * service. A previous instance, if given, is stopped first.
 */
export async function startDnsServer(lab: Lab, services: readonly ServiceSpec[], previous?: DnsServer): Promise<DnsServer> {
  const netns = lab.dnsNs;
  if (!netns) throw environment('the lab has no DNS pod', 'build the lab with `dns: true` (scenarios with a dns probe do)');
  if (!(await hasCommand('dnsmasq'))) throw environment('dnsmasq is not installed (the lab DNS server)', 'apt-get install dnsmasq-base');
  if (previous) await stopDnsServer(lab, previous);
  const dir = join(lab.runDir, 'dns');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'hosts'), hostsFile(services), { mode: 0o644 });
  const log = await open(join(dir, 'dnsmasq.log'), 'a');
  const child = spawn('ip', ['netns', 'exec', netns, 'dnsmasq', ...dnsmasqArgs(dir)], { detached: true, stdio: ['ignore', 'ignore', log.fd] });
  child.unref();
  await log.close();
  if (!child.pid) throw environment(`could not start dnsmasq in ${netns}`, 'run `dpbench doctor`');
  // `ip netns exec` execs dnsmasq in place, so the PID is dnsmasq's own.
  lab.state.processes.push({ pid: child.pid, comm: 'dnsmasq' });
  await saveState(lab.state);
  const server = { pid: child.pid, services: services.length };
  const last = services.at(-1);
  await waitForDns(netns, last ? serviceFqdn(last) : EXTERNAL_NAME, last?.vip ?? DNS_POD_IP, dir);
  return server;
}

export async function stopDnsServer(lab: Lab, server: DnsServer): Promise<void> {
  await stopProcess(server.pid, 'dnsmasq');
  lab.state.processes = lab.state.processes.filter((p) => p.pid !== server.pid);
  await saveState(lab.state);
}

/** Polls from inside the DNS pod (no datapath involved) until dnsmasq has loaded its records. */
async function waitForDns(netns: string, name: string, expected: string, dir: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const script = `require('node:dns').promises.setServers(['${DNS_POD_IP}']);
require('node:dns').promises.resolve4(process.argv[1]).then((a) => console.log(a.join(',')), (e) => console.log(e.code));`;
  for (;;) {
    const r = await exec([process.execPath, '-e', script, name], { netns, allowFailure: true, timeoutMs: 5000 });
    if (r.stdout.trim() === expected) return;
    if (Date.now() > deadline) {
      throw environment(`dnsmasq in ${netns} did not answer ${name} with ${expected} (got ${r.stdout.trim() || r.stderr.trim()})`,
        `see ${join(dir, 'dnsmasq.log')}`);
    }
    await new Promise((res) => setTimeout(res, 100));
  }
}
