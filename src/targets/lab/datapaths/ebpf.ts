import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { badInput, environment } from '../../../errors.js';
import { exec, hasCommand } from '../../../util/exec.js';
import type { Endpoint, ServiceSpec } from '../addressing.js';
import { buildLb } from '../bpf/build.js';
import type { Datapath, InstallInfo, LabContext } from './datapath.js';

/** Programs in lb.c and the cgroup hook each is attached to (bpftool's attach type names). */
export const LB_PROGRAMS = [
  { prog: 'sock4_connect', attach: 'connect4' },
  { prog: 'sock4_sendmsg', attach: 'sendmsg4' },
  { prog: 'sock4_recvmsg', attach: 'recvmsg4' },
] as const;

const PROTO = { tcp: 6, udp: 17 } as const;

/** max_entries of lb4_services in lb.c: 65,536 services × (1 + 8 backends). */
export const LB_SERVICE_SLOTS = 65_536 * 9;

const hex = (bytes: readonly number[]): string => bytes.map((b) => b.toString(16).padStart(2, '0')).join(' ');
const ipBytes = (ip: string): number[] => ip.split('.').map(Number);
const be16 = (n: number): number[] => [(n >> 8) & 0xff, n & 0xff];
const le16 = (n: number): number[] => [n & 0xff, (n >> 8) & 0xff];
const le32 = (n: number): number[] => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];

/** struct lb4_key: address, dport (network order), backend_slot, proto, scope, pad[2]. */
export const lb4Key = (svc: ServiceSpec, slot: number): string =>
  hex([...ipBytes(svc.vip), ...be16(svc.port), ...le16(slot), PROTO[svc.protocol], 0, 0, 0]);

/** struct lb4_service: backend_id, count, rev_nat_index, flags, flags2, pad[2]. */
export const lb4Service = (backendId: number, count: number, revNat: number): string =>
  hex([...le32(backendId), ...le16(count), ...le16(revNat), 0, 0, 0, 0]);

/** struct lb4_backend: address, port (network order), proto, flags. */
export const lb4Backend = (ep: Endpoint, proto: number): string => hex([...ipBytes(ep.ip), ...be16(ep.port), proto, 0]);

const backendKey = (ep: Endpoint, protocol: string): string => `${protocol}:${ep.ip}:${ep.port}`;

/**
 * Backend ids, shared between services as Cilium shares them, with reference counts so a
 * backend entry is deleted when its last service goes.
 */
export class BackendTable {
  private ids = new Map<string, { id: number; refs: number }>();
  private next = 1;

  /** Takes a reference; `created` is true when the map needs a new backend entry. */
  acquire(ep: Endpoint, protocol: string): { id: number; created: boolean } {
    const k = backendKey(ep, protocol);
    const e = this.ids.get(k);
    if (e) {
      e.refs++;
      return { id: e.id, created: false };
    }
    const id = this.next++;
    this.ids.set(k, { id, refs: 1 });
    return { id, created: true };
  }

  /** Drops a reference; returns the id when the backend entry should now be deleted. */
  release(ep: Endpoint, protocol: string): number | null {
    const k = backendKey(ep, protocol);
    const e = this.ids.get(k);
    if (!e) return null;
    if (--e.refs > 0) return null;
    this.ids.delete(k);
    return e.id;
  }

  get size(): number {
    return this.ids.size;
  }
}

export interface LbMaps {
  services: string;
  backends: string;
}

/**
 * `bpftool batch` lines that add services: new backends first, then slots 1..n, then slot 0,
 * so connect4 only sees a service once every slot it may pick exists.
 */
export function lbAddBatch(services: readonly ServiceSpec[], maps: LbMaps, table: BackendTable): string[] {
  const backends: string[] = [];
  const slots: string[] = [];
  for (const svc of services) {
    const proto = PROTO[svc.protocol];
    svc.endpoints.forEach((ep, i) => {
      const { id, created } = table.acquire(ep, svc.protocol);
      if (created) backends.push(`map update pinned ${maps.backends} key hex ${hex(le32(id))} value hex ${lb4Backend(ep, proto)}`);
      slots.push(`map update pinned ${maps.services} key hex ${lb4Key(svc, i + 1)} value hex ${lb4Service(id, 0, 0)}`);
    });
    slots.push(
      `map update pinned ${maps.services} key hex ${lb4Key(svc, 0)} value hex ${lb4Service(0, svc.endpoints.length, (svc.index + 1) & 0xffff)}`,
    );
  }
  return [...backends, ...slots];
}

/** Lines that remove a service: slot 0 first, so no new connection picks a slot being deleted. */
export function lbRemoveBatch(svc: ServiceSpec, maps: LbMaps, table: BackendTable): string[] {
  const out = [`map delete pinned ${maps.services} key hex ${lb4Key(svc, 0)}`];
  svc.endpoints.forEach((_, i) => out.push(`map delete pinned ${maps.services} key hex ${lb4Key(svc, i + 1)}`));
  for (const ep of svc.endpoints) {
    const id = table.release(ep, svc.protocol);
    if (id !== null) out.push(`map delete pinned ${maps.backends} key hex ${hex(le32(id))}`);
  }
  return out;
}

/** Sum over CPUs of a per-CPU u64 from `bpftool -j map lookup` (BTF-formatted or raw bytes). */
export function sumPerCpu(json: string): number {
  const v = JSON.parse(json) as {
    values?: { value: string[] }[];
    formatted?: { values: { value: number }[] };
  };
  if (v.formatted) return v.formatted.values.reduce((a, x) => a + Number(x.value), 0);
  let total = 0;
  for (const { value } of v.values ?? []) {
    let n = 0;
    for (let i = value.length - 1; i >= 0; i--) n = n * 256 + parseInt(value[i]!, 16);
    total += n;
  }
  return total;
}

class EbpfDatapath implements Datapath {
  readonly name = 'ebpf' as const;
  private services = new Map<number, ServiceSpec>();
  private table = new BackendTable();
  private object: string | null = null;
  private tools = '';
  private batchSeq = 0;

  constructor(private readonly ctx: LabContext) {}

  private get pinRoot(): string {
    return join(this.ctx.bpffs, 'dpbench-lb');
  }
  private get progDir(): string {
    return join(this.pinRoot, 'progs');
  }
  private get maps(): LbMaps & { decisions: string } {
    const d = join(this.pinRoot, 'maps');
    return { services: join(d, 'lb4_services'), backends: join(d, 'lb4_backends'), decisions: join(d, 'lb_decisions') };
  }

  async unavailable(): Promise<string | null> {
    for (const cmd of ['clang', 'bpftool']) {
      if (!(await hasCommand(cmd))) return `${cmd} is not installed (Debian package ${cmd === 'clang' ? 'clang' : 'bpftool'})`;
    }
    if (!existsSync('/usr/include/bpf/bpf_helpers.h')) return 'libbpf headers are missing (Debian package libbpf-dev)';
    const fsType = async (p: string) =>
      (await exec(['stat', '-f', '-c', '%T', p], { allowFailure: true })).stdout.trim();
    if ((await fsType(this.ctx.bpffs)) !== 'bpf_fs') return `${this.ctx.bpffs} is not a bpffs mount`;
    // libbpf rewrites '.' to '_' in pin paths, so maps would be pinned somewhere else.
    if (this.ctx.bpffs.includes('.')) return `bpffs path ${this.ctx.bpffs} contains '.', which libbpf rewrites in pin paths`;
    if ((await fsType(this.ctx.clientCgroup)) !== 'cgroup2fs') return `${this.ctx.clientCgroup} is not a cgroup v2 directory`;
    try {
      this.object = await buildLb(join(this.ctx.runDir, 'bpf'));
    } catch (e) {
      return `lb.c does not compile: ${(e as Error).message.slice(0, 500)}`;
    }
    const [c, b] = await Promise.all([exec(['clang', '--version']), exec(['bpftool', 'version'])]);
    this.tools = `${/clang version [\d.]+/.exec(c.stdout)?.[0] ?? 'clang'}, bpftool ${/v[\d.]+/.exec(b.stdout)?.[0] ?? ''}`.trim();
    return null;
  }

  async install(services: readonly ServiceSpec[]): Promise<InstallInfo> {
    const slots = services.reduce((a, s) => a + 1 + s.endpoints.length, 0);
    if (slots > LB_SERVICE_SLOTS) {
      throw badInput(
        `${services.length} services need ${slots.toLocaleString('en-US')} eBPF service-map slots; lb4_services holds ${LB_SERVICE_SLOTS.toLocaleString('en-US')}`,
        'use fewer services or endpoints per service (the map is sized for 65k services × 8 endpoints, like a default Cilium)',
      );
    }
    await this.uninstall();
    // Compiling is lab preparation, not datapath programming: keep it out of the timing.
    const object = this.object ?? (await buildLb(join(this.ctx.runDir, 'bpf')));
    this.object = object;
    const start = process.hrtime.bigint();
    await mkdir(this.pinRoot, { recursive: true });
    await exec(['bpftool', 'prog', 'loadall', object, this.progDir, 'pinmaps', join(this.pinRoot, 'maps')]);
    const lines = lbAddBatch(services, this.maps, this.table);
    await this.batch(lines);
    for (const p of LB_PROGRAMS) {
      await exec(['bpftool', 'cgroup', 'attach', this.ctx.clientCgroup, p.attach, 'pinned', join(this.progDir, p.prog)]);
    }
    this.services = new Map(services.map((s) => [s.index, s]));
    return { objects: lines.length, seconds: Number(process.hrtime.bigint() - start) / 1e9 };
  }

  async addService(svc: ServiceSpec): Promise<void> {
    const old = this.services.get(svc.index);
    const lines = old ? lbRemoveBatch(old, this.maps, this.table) : [];
    lines.push(...lbAddBatch([svc], this.maps, this.table));
    await this.batch(lines);
    this.services.set(svc.index, svc);
  }

  async removeService(svc: ServiceSpec): Promise<void> {
    const old = this.services.get(svc.index);
    if (!old) return;
    await this.batch(lbRemoveBatch(old, this.maps, this.table));
    this.services.delete(svc.index);
  }

  async decisions(): Promise<number> {
    const r = await exec(['bpftool', '-j', 'map', 'lookup', 'pinned', this.maps.decisions, 'key', 'hex', '00', '00', '00', '00']);
    return sumPerCpu(r.stdout);
  }

  async uninstall(): Promise<void> {
    // Detach by id from what the cgroup reports, so a crashed run's programs go too.
    const show = await exec(['bpftool', '-j', 'cgroup', 'show', this.ctx.clientCgroup], { allowFailure: true });
    if (show.code === 0 && show.stdout.trim()) {
      const progs = JSON.parse(show.stdout) as { id: number; attach_type: string; name: string }[];
      const ours = new Set<string>(LB_PROGRAMS.map((p) => p.prog));
      // bpftool prints either its short names or the kernel's enum names, depending on version.
      const types: Record<string, string> = {
        connect4: 'connect4',
        sendmsg4: 'sendmsg4',
        recvmsg4: 'recvmsg4',
        cgroup_inet4_connect: 'connect4',
        cgroup_udp4_sendmsg: 'sendmsg4',
        cgroup_udp4_recvmsg: 'recvmsg4',
      };
      for (const p of progs) {
        const type = types[p.attach_type];
        if (type && ours.has(p.name)) {
          await exec(['bpftool', 'cgroup', 'detach', this.ctx.clientCgroup, type, 'id', String(p.id)]);
        }
      }
    }
    await rm(this.pinRoot, { recursive: true, force: true });
    this.services.clear();
    this.table = new BackendTable();
  }

  describe(): string {
    let entries = this.table.size;
    for (const s of this.services.values()) entries += s.endpoints.length + 1;
    return `lab: Cilium-style socket LB (cgroup connect4/sendmsg4/recvmsg4; ${this.tools || 'clang, bpftool'}), ${entries.toLocaleString('en-US')} map entries`;
  }

  /** One bpftool process for the whole change: thousands of updates cost one fork, not thousands. */
  private async batch(lines: readonly string[]): Promise<void> {
    if (lines.length === 0) return;
    if (!existsSync(this.maps.services)) {
      throw environment('the eBPF datapath is not installed', 'install() must run before services are added or removed');
    }
    const dir = join(this.ctx.runDir, 'bpf');
    await mkdir(dir, { recursive: true });
    const file = join(dir, `batch-${process.pid}-${this.batchSeq++}.txt`);
    await writeFile(file, `${lines.join('\n')}\n`);
    try {
      await exec(['bpftool', 'batch', 'file', file]);
    } finally {
      await rm(file, { force: true });
    }
  }
}

export const createEbpfDatapath = (ctx: LabContext): Datapath => new EbpfDatapath(ctx);
