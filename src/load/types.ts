/** A set of addresses requests are spread over, recorded into one histogram (e.g. "vip", "direct"). */
export interface TargetGroup {
  name: string;
  /** host:port pairs; each request (or keep-alive connection) picks one uniformly at random. */
  addresses: { host: string; port: number }[];
}

export interface OpenLoopConfig {
  groups: TargetGroup[];
  /** Total requests per second over all groups; request i goes to group i mod groups.length. */
  rate: number;
  arrival: 'constant' | 'poisson';
  durationS: number;
  warmupS: number;
  connection: 'keepalive' | 'new';
  /** Keep-alive pool size over all groups (at least one per group). */
  connections: number;
  timeoutS: number;
  /** Host header and path of the request. */
  path?: string;
  /** Seed for target choice and Poisson gaps, so a run can be repeated exactly. */
  seed?: number;
}

export interface GroupResult {
  name: string;
  /** From intended send time: corrects for coordinated omission. Encoded HDR, µs. */
  latency: string;
  /** From actual send time (includes connect in new-connection mode). Encoded HDR, µs. */
  serviceTime: string;
  ok: number;
  errors: Record<string, number>;
}

export interface OpenLoopResult {
  groups: GroupResult[];
  /** Actual minus intended send time, encoded HDR, µs. */
  scheduleLag: string;
  targetRps: number;
  /** Successful responses per second of wall time, over the measured window. */
  achievedRps: number;
  /** Requests whose intended time fell in the measured window. */
  scheduled: number;
  measuredSeconds: number;
  /** Generator's CPU (user+system) over the window, as a fraction of one core. */
  cpu: number;
  /** Share of wall time the generator spent in its own send/receive work: near 1 means saturated. */
  busy: number;
  /** Requests still unanswered when the run's time bound ended (also counted as timeouts). */
  abandoned: number;
}
