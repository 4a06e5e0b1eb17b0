/**
 * Lab addressing, all inside 198.18.0.0/15 (RFC 2544, reserved for benchmarks), so nothing the lab
 * sends can be mistaken for, or routed to, a real network:
 * nodes 198.18.0.0/24, pods on node-a 198.18.1.0/24, pods on node-b 198.18.2.0/24,
 * service VIPs 198.19.0.0/16.
 */
export const LAB_CIDR = '198.18.0.0/15';
export const CLUSTER_POD_CIDR = '198.18.0.0/16';
export const SERVICE_CIDR = '198.19.0.0/16';
export const NODE_A_IP = '198.18.0.1';
export const NODE_B_IP = '198.18.0.2';
export const NODE_A_POD_GW = '198.18.1.1';
export const NODE_B_POD_GW = '198.18.2.1';
export const CLIENT_IP = '198.18.1.10';
export const SERVICE_PORT = 80;
export const BACKEND_PORT = 8080;
/** Reserved for a DNS service VIP (index 0 of the service range is never a background service). */
export const DNS_VIP = '198.19.0.10';
export const MAX_SERVICES = 65_000;
/** The DNS pod on node-b (dnsmasq), the endpoint behind DNS_VIP. */
export const DNS_POD_IP = '198.18.2.250';
export const DNS_PORT = 53;
/** Programming-latency probes add services with VIPs from 198.19.0.16 on (the infrastructure /24). */
export const PROBE_VIP_BASE = 16;
export const PROBE_VIPS = 240;

/** Server pod n (0-based) on node-b. */
export const serverPodIp = (n: number): string => `198.18.2.${10 + n}`;

/**
 * VIP of background service i (0-based). Starts at 198.19.1.0 so the first /24 stays free for
 * infrastructure VIPs (DNS, probes added at run time).
 */
export function serviceVip(i: number): string {
  const n = i + 256;
  if (i < 0 || n > 0xffff) throw new RangeError(`service index ${i} outside 198.19.0.0/16`);
  return `198.19.${n >> 8}.${n & 0xff}`;
}

export const ipToInt = (ip: string): number =>
  ip.split('.').reduce((acc, o) => (acc * 256 + Number(o)) >>> 0, 0);

export interface Endpoint {
  ip: string;
  port: number;
}

export interface ServiceSpec {
  /** 0-based install order; the position in iptables' KUBE-SERVICES follows it. */
  index: number;
  name: string;
  namespace: string;
  vip: string;
  port: number;
  protocol: 'tcp' | 'udp';
  endpoints: Endpoint[];
}

/** Background services, k endpoints each, spread round-robin over the server pods. */
export function backgroundServices(count: number, endpoints: number, pods: number): ServiceSpec[] {
  const out: ServiceSpec[] = [];
  for (let i = 0; i < count; i++) {
    const eps: Endpoint[] = [];
    for (let j = 0; j < endpoints; j++) eps.push({ ip: serverPodIp((i + j) % pods), port: BACKEND_PORT });
    out.push({ index: i, name: `svc-${i}`, namespace: 'bench', vip: serviceVip(i), port: SERVICE_PORT, protocol: 'tcp', endpoints: eps });
  }
  return out;
}

/**
 * The cluster DNS service (kube-dns), UDP 53, installed through the datapath under test with the
 * background services. Its index follows theirs, so in iptables' KUBE-SERVICES it is the last
 * service rule: dns.lookup on iptables is measured at the worst position (stated in the report).
 */
export function dnsService(backgroundCount: number): ServiceSpec {
  return {
    index: backgroundCount,
    name: 'kube-dns',
    namespace: 'kube-system',
    vip: DNS_VIP,
    port: DNS_PORT,
    protocol: 'udp',
    endpoints: [{ ip: DNS_POD_IP, port: DNS_PORT }],
  };
}

/**
 * The k-th service a programming-latency probe adds: a fresh VIP each time (so no conntrack entry
 * of an earlier change can answer for it), installed after every background and DNS service.
 */
export function probeService(k: number, backgroundCount: number, endpoints: number, pods: number): ServiceSpec {
  const eps: Endpoint[] = [];
  for (let j = 0; j < endpoints; j++) eps.push({ ip: serverPodIp((k + j) % pods), port: BACKEND_PORT });
  return {
    index: backgroundCount + 1 + k,
    name: `probe-${k}`,
    namespace: 'bench',
    vip: `198.19.0.${PROBE_VIP_BASE + (k % PROBE_VIPS)}`,
    port: SERVICE_PORT,
    protocol: 'tcp',
    endpoints: eps,
  };
}
