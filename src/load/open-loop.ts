import { connect, type Socket } from 'node:net';
import { performance, PerformanceObserver } from 'node:perf_hooks';
import { encodeHistogram, newHistogram, type Histogram } from '../results/histogram.js';
import { prng } from '../util/prng.js';
import { ResponseReader } from './response-reader.js';
import { schedWaitNs } from './sched-wait.js';
import type { OpenLoopConfig, OpenLoopResult, TargetGroup } from './types.js';

/**
 * Open-loop load: request i is *intended* to leave at start + t_i whether or not earlier ones
 * have returned, and its latency counts from t_i (coordinated-omission correction). Hand-written
 * because no Node library schedules at µs precision: autocannon's rate limit sends per-second
 * bursts and records whole milliseconds.
 */


/**
 * One receive buffer for every socket of the process (net's `onread`): responses are parsed the
 * moment they are read, so nothing needs its own copy, and reads allocate nothing. Per-read
 * Buffers were most of the garbage at 5k req/s, and the scavenges they caused were the generator's
 * longest stalls.
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

/** An address with its request pre-encoded: the send path does no string work. */
interface Target {
  host: string;
  port: number;
  request: Buffer;
}

interface GroupState {
  group: TargetGroup;
  targets: Target[];
  latency: Histogram;
  service: Histogram;
  connect: Histogram;
  ok: number;
  errors: Record<string, number>;
  /** Keep-alive: idle connections, and intended times waiting for one. */
  idle: KeepAliveConn[];
  queue: number[];
  queueHead: number;
}

interface KeepAliveConn {
  g: GroupState;
  socket: Socket | undefined;
  reader: ResponseReader;
  busy: boolean;
  intended: number;
  sent: number;
  /** The pre-encoded request for the address this connection went to. */
  reqBuf: Buffer;
}

interface NewConnReq {
  g: GroupState;
  intended: number;
  sent: number;
  socket: Socket;
  done: boolean;
}

export async function runOpenLoop(cfg: OpenLoopConfig, signal?: AbortSignal): Promise<OpenLoopResult> {
  if (cfg.groups.length === 0 || cfg.groups.some((g) => g.addresses.length === 0)) {
    throw new RangeError('every target group needs at least one address');
  }
  const rand = prng(cfg.seed ?? 1);
  const intervalMs = 1000 / cfg.rate;
  const timeoutMs = cfg.timeoutS * 1000;
  const timeoutUs = Math.round(timeoutMs * 1000);
  const request = (host: string) =>
    Buffer.from(`GET ${cfg.path ?? '/'} HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: dpbench\r\n` +
      (cfg.connection === 'new' ? 'Connection: close\r\n\r\n' : '\r\n'), 'latin1');
  const groups: GroupState[] = cfg.groups.map((group) => ({
    group,
    targets: group.addresses.map((a) => ({ host: a.host, port: a.port, request: request(a.host) })),
    latency: newHistogram(), service: newHistogram(), connect: newHistogram(), ok: 0, errors: {}, idle: [], queue: [], queueHead: 0,
  }));
  const lag = newHistogram();
  const err = (g: GroupState, kind: string) => {
    g.errors[kind] = (g.errors[kind] ?? 0) + 1;
  };
  const pick = (g: GroupState) => g.targets[Math.floor(rand() * g.targets.length)]!;
  /** A histogram value: ms → µs, at least 1 (HDR cannot hold 0). */
  const us = (ms: number) => Math.max(1, Math.round(ms * 1000));

  const total = Math.max(1, Math.round(cfg.rate * (cfg.warmupS + cfg.durationS)));
  const start = performance.now() + 20;
  const measureFrom = start + cfg.warmupS * 1000;
  const measureTo = start + (cfg.warmupS + cfg.durationS) * 1000;
  // The time bound: a generator that fell this far behind stops sending; what it never sent was
  // due and unanswered, so it counts as timed out.
  const hardStop = measureTo + timeoutMs;
  let workMs = 0;
  // Throughput is what the server delivered *during* the window, whenever those requests were
  // scheduled: stretching the window to the last straggler would charge the tail latency against
  // the rate (20 ms over a 1 s window reads as a 2% shortfall).
  let okInWindow = 0;
  let scheduled = 0;
  let outstanding = 0;
  const measured = (intended: number) => intended >= measureFrom;

  const complete = (g: GroupState, intended: number, sent: number, status: number) => {
    const now = performance.now();
    outstanding--;
    const good = status >= 200 && status < 400;
    if (good && now >= measureFrom && now <= measureTo) okInWindow++;
    if (!measured(intended)) return;
    if (!good) {
      err(g, `http_${status}`);
      return;
    }
    g.ok++;
    g.latency.recordValue(us(now - intended));
    g.service.recordValue(us(now - sent));
  };
  const fail = (g: GroupState, intended: number, kind: string) => {
    outstanding--;
    if (!measured(intended)) return;
    err(g, kind);
    // A timeout is recorded at the timeout, so the tail shows it instead of hiding it.
    if (kind === 'timeout') g.latency.recordValue(timeoutUs);
  };

  // ---- new connection per request -------------------------------------------------------
  const inflight = new Set<NewConnReq>();
  const sendNew = (g: GroupState, intended: number) => {
    const a = pick(g);
    const sent = performance.now();
    const reader = new ResponseReader();
    const finish = (status: number) => {
      if (req.done) return;
      req.done = true;
      inflight.delete(req);
      complete(g, intended, sent, status);
      // Wait for the server's FIN: the server closes first and holds TIME_WAIT, like a pod.
    };
    const socket = connect({
      host: a.host, port: a.port, noDelay: true,
      onread: { buffer: READ_BUFFER, callback: (n, buf) => {
        const t = performance.now();
        reader.feed(buf as Buffer, finish, n);
        workMs += performance.now() - t;
        return true;
      } },
    });
    const req: NewConnReq = { g, intended, sent, socket, done: false };
    inflight.add(req);
    socket.on('connect', () => {
      // The request leaves first; recording waits until it is on its way.
      const connected = performance.now();
      socket.write(a.request);
      if (measured(intended)) g.connect.recordValue(us(connected - intended));
    });
    socket.on('end', () => reader.end(finish));
    socket.on('error', (e: NodeJS.ErrnoException) => {
      if (req.done) return;
      req.done = true;
      inflight.delete(req);
      fail(g, intended, e.code ?? 'error');
    });
    socket.on('close', () => {
      if (!req.done) {
        req.done = true;
        inflight.delete(req);
        fail(g, intended, 'closed_early');
      }
    });
  };

  // ---- keep-alive pool -----------------------------------------------------------------
  const conns: KeepAliveConn[] = [];
  const sendOn = (c: KeepAliveConn, intended: number) => {
    c.busy = true;
    c.intended = intended;
    c.sent = performance.now();
    c.socket!.write(c.reqBuf);
  };
  const release = (c: KeepAliveConn) => {
    const g = c.g;
    if (g.queueHead < g.queue.length) {
      const next = g.queue[g.queueHead++]!;
      if (g.queueHead > 4096 && g.queueHead * 2 > g.queue.length) {
        g.queue = g.queue.slice(g.queueHead);
        g.queueHead = 0;
      }
      sendOn(c, next);
    } else {
      c.busy = false;
      g.idle.push(c);
    }
  };
  const openConn = (c: KeepAliveConn) => {
    const a = pick(c.g);
    c.reqBuf = a.request;
    c.reader.reset();
    // Created once per connection, not per read: the receive path allocates nothing.
    const onResponse = (status: number) => {
      if (!c.busy) return;
      c.busy = false;
      complete(c.g, c.intended, c.sent, status);
      release(c);
    };
    const s = connect({
      host: a.host, port: a.port, noDelay: true,
      onread: { buffer: READ_BUFFER, callback: (n, buf) => {
        const t = performance.now();
        c.reader.feed(buf as Buffer, onResponse, n);
        workMs += performance.now() - t;
        return true;
      } },
    });
    c.socket = s;
    s.on('connect', () => release(c));
    s.on('error', () => {});
    s.on('close', () => {
      if (c.socket !== s) return;
      if (c.busy) {
        c.busy = false;
        fail(c.g, c.intended, 'reset');
      }
      const i = c.g.idle.indexOf(c);
      if (i >= 0) c.g.idle.splice(i, 1);
      c.socket = undefined;
      if (!stopping) setTimeout(() => !stopping && openConn(c), 10);
    });
  };
  const sendKeepAlive = (g: GroupState, intended: number) => {
    const c = g.idle.pop();
    if (c) sendOn(c, intended);
    else g.queue.push(intended);
  };

  let stopping = false;
  if (cfg.connection === 'keepalive') {
    const per = Math.max(1, Math.floor(cfg.connections / groups.length));
    for (const g of groups) {
      for (let i = 0; i < per; i++) {
        const c: KeepAliveConn = { g, socket: undefined, reader: new ResponseReader(), busy: false, intended: 0, sent: 0, reqBuf: Buffer.alloc(0) };
        conns.push(c);
        openConn(c);
      }
    }
  }

  // ---- scheduler -------------------------------------------------------------------------
  let i = 0;
  let nextAt = start;
  const send = cfg.connection === 'new' ? sendNew : sendKeepAlive;
  const advance = () => {
    nextAt = cfg.arrival === 'poisson' ? nextAt - Math.log(1 - rand()) * intervalMs : start + (i + 1) * intervalMs;
    i++;
  };
  // GC pauses stop the scheduler too; recorded so that a lagging trial says whether GC was why.
  let gcPauseMs = 0;
  let gcMaxPauseMs = 0;
  const gcObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (e.startTime < measureFrom) continue;
      gcPauseMs += e.duration;
      gcMaxPauseMs = Math.max(gcMaxPauseMs, e.duration);
    }
  });
  gcObserver.observe({ entryTypes: ['gc'] });
  const cpu0 = process.cpuUsage();
  let cpuAtMeasure: NodeJS.CpuUsage | undefined;
  let workAtMeasure = 0;
  let waitAtMeasure = schedWaitNs();

  await new Promise<void>((resolve) => {
    const sweep = setInterval(() => {
      // Time-outs are swept, not armed per request: a timer per request would cost more than the request.
      const now = performance.now();
      for (const r of inflight) {
        if (now - r.intended > timeoutMs) {
          r.done = true;
          inflight.delete(r);
          r.socket.destroy();
          fail(r.g, r.intended, 'timeout');
        }
      }
      for (const c of conns) {
        if (c.busy && now - c.intended > timeoutMs) {
          c.busy = false;
          fail(c.g, c.intended, 'timeout');
          c.socket?.destroy();
        }
      }
      for (const g of groups) {
        while (g.queueHead < g.queue.length && now - g.queue[g.queueHead]! > timeoutMs) {
          fail(g, g.queue[g.queueHead++]!, 'timeout');
        }
      }
    }, 10);
    const tick = () => {
      const now = performance.now();
      if (signal?.aborted) i = total;
      if (!cpuAtMeasure && now >= measureFrom) {
        cpuAtMeasure = process.cpuUsage();
        workAtMeasure = workMs;
        waitAtMeasure = schedWaitNs();
      }
      if (now > hardStop) {
        for (; i < total; advance()) {
          if (measured(nextAt)) {
            scheduled++;
            outstanding++;
            fail(groups[i % groups.length]!, nextAt, 'timeout');
          }
        }
      }
      const t = now;
      const i0 = i;
      while (i < total && nextAt <= now) {
        const intended = nextAt;
        const g = groups[i % groups.length]!;
        if (measured(intended)) {
          scheduled++;
          lag.recordValue(Math.max(1, Math.round((performance.now() - intended) * 1000)));
        }
        outstanding++;
        send(g, intended);
        advance();
      }
      // Only a tick that sent counts as work. workMs is a captured double, so every assignment
      // boxes a new heap number: doing it on each idle spin was garbage at ~100k spins/s.
      if (i !== i0) workMs += performance.now() - t;
      if (i < total) {
        const wait = nextAt - performance.now();
        // Sleep with a timer only when the next send is far off; timers fire ~1 ms late, so
        // the last stretch is covered by yielding to I/O with setImmediate.
        if (wait > 2) setTimeout(tick, wait - 1.5);
        else setImmediate(tick);
        return;
      }
      // All sent: wait for answers, bounded by the timeout.
      const drainUntil = performance.now() + timeoutMs + 50;
      const drain = () => {
        if (outstanding <= 0 || performance.now() > drainUntil) {
          clearInterval(sweep);
          resolve();
        } else setTimeout(drain, 5);
      };
      drain();
    };
    setTimeout(tick, Math.max(0, start - performance.now()));
  });

  const end = performance.now();
  gcObserver.disconnect();
  const cpu = process.cpuUsage(cpuAtMeasure ?? cpu0);
  const waitMs = (schedWaitNs() - waitAtMeasure) / 1e6;
  stopping = true;
  for (const c of conns) c.socket?.destroy();
  for (const r of inflight) r.socket.destroy();
  const abandoned = Math.max(0, outstanding);
  const windowMs = Math.max(1, Math.min(end, measureTo) - measureFrom);
  return {
    groups: groups.map((g) => ({
      name: g.group.name,
      latency: encodeHistogram(g.latency),
      serviceTime: encodeHistogram(g.service),
      ...(cfg.connection === 'new' && { connect: encodeHistogram(g.connect) }),
      ok: g.ok,
      errors: g.errors,
    })),
    scheduleLag: encodeHistogram(lag),
    targetRps: cfg.rate,
    achievedRps: (okInWindow / windowMs) * 1000,
    scheduled,
    measuredSeconds: windowMs / 1000,
    cpu: (cpu.user + cpu.system) / 1000 / Math.max(1, end - measureFrom),
    busy: (workMs - workAtMeasure) / Math.max(1, end - measureFrom),
    abandoned,
    cpuWait: waitMs / Math.max(1, end - measureFrom),
    gcShare: gcPauseMs / Math.max(1, end - measureFrom),
    gcMaxPauseUs: Math.round(gcMaxPauseMs * 1000),
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    workers: 1,
  };
}
