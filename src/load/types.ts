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
  /**
   * Generator processes, each sending rate/workers on its own connections (default 1). Their
   * histograms are merged; percentiles are never averaged.
   */
  workers?: number;
}

export interface GroupResult {
  name: string;
  /** From intended send time: corrects for coordinated omission. Encoded HDR, µs. */
  latency: string;
  /** From actual send time (includes connect in new-connection mode). Encoded HDR, µs. */
  serviceTime: string;
  /**
   * New-connection mode only: from intended send time to the connection being established (the
   * SYN's round trip). A datapath's per-connection cost (rule walk, NAT, conntrack entry) lands here,
   * without the server's request handling. Encoded HDR, µs.
   */
  connect?: string;
  ok: number;
  errors: Record<string, number>;
}

export interface OpenLoopResult {
  groups: GroupResult[];
  /** Actual minus intended send time, encoded HDR, µs. */
  scheduleLag: string;
  targetRps: number;
  /**
   * Successful responses received during the measured window, per second. Requests scheduled in
   * the warm-up but answered in the window count, so a warm-up longer than the latency is needed.
   */
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
  /**
   * Share of wall time the generator was ready to run but waited for a CPU (from
   * /proc/self/schedstat): near 0 on a quiet machine; high means neighbours starved it.
   */
  cpuWait?: number;
  /** Peak resident memory of the generator process (the largest worker's). */
  maxRssBytes?: number;
  /** Share of the window the generator's GC paused it, and its longest pause (µs). */
  gcShare?: number;
  gcMaxPauseUs?: number;
  /** Generator processes merged into this result. */
  workers?: number;
}

/** Closed loop (saturation): each connection sends its next request as soon as the last returns. */
export interface ClosedLoopConfig {
  groups: TargetGroup[];
  durationS: number;
  warmupS: number;
  /** Connections over all groups (at least one per group). */
  connections: number;
  pipelining: number;
  connection: 'keepalive' | 'new';
  /** Whole seconds (autocannon's resolution for time-outs). */
  timeoutS: number;
  path?: string;
}

export interface ClosedLoopResult {
  /** latency and serviceTime are the same histogram: with no schedule, there is no intended send time. */
  groups: GroupResult[];
  achievedRps: number;
  measuredSeconds: number;
  cpu: number;
  cpuWait: number;
  maxRssBytes: number;
}
