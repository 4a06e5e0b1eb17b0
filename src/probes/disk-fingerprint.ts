import { existsSync, readFileSync, realpathSync, statfsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { exec, hasCommand } from '../util/exec.js';

export type Transport = 'nvme' | 'virtio' | 'scsi' | 'ata' | 'xen' | 'mmc' | 'loop' | 'zram' | 'ram' | 'md' | 'device-mapper' | 'unknown';

export interface DeviceFingerprint {
  dir: string;
  mountPoint: string;
  filesystem: string;
  /** Per-mount options then per-superblock options, as /proc/self/mountinfo lists them. */
  mountOptions: string;
  source: string;
  /** Kernel name of the whole disk holding the filesystem (vda, nvme0n1, sda), null when there is none (tmpfs, overlay). */
  blockDevice: string | null;
  /** The partition, when the filesystem sits on one. */
  partition: string | null;
  transport: Transport | null;
  /** From queue/rotational. Hypervisors often report 1 for virtio disks whatever the medium. */
  rotational: boolean | null;
  model: string | null;
  vendor: string | null;
  scheduler: string | null;
  /**
   * "write back" means the kernel sends cache flushes, so fdatasync reaches stable media;
   * "write through" means it does not, and fdatasync only proves the device acknowledged the write.
   */
  writeCache: string | null;
  /** RAM-backed storage: fdatasync there has nothing to flush and measures nothing about a disk. */
  memoryBacked: boolean;
  freeBytes: number;
  totalBytes: number;
  hypervisor: HypervisorInfo;
}

export interface HypervisorInfo {
  /** True when any source says virtualised; null when no source could tell. */
  virtualized: boolean | null;
  /** The `hypervisor` CPU flag, which the kernel sets in any guest. */
  cpuFlag: boolean;
  dmiVendor: string | null;
  dmiProduct: string | null;
  /** `systemd-detect-virt` output (kvm, vmware, docker, none, ...), null when it is not installed. */
  detectVirt: string | null;
}

interface MountEntry {
  majorMinor: string;
  mountPoint: string;
  options: string;
  fstype: string;
  source: string;
  superOptions: string;
}

const MEMORY_FILESYSTEMS = new Set(['tmpfs', 'ramfs', 'devtmpfs', 'hugetlbfs']);

/** mountinfo escapes space, tab, newline and backslash as octal. */
const unescapeMount = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

export function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const l = left.split(' ');
    const r = right.split(' ');
    out.push({
      majorMinor: l[2] ?? '',
      mountPoint: unescapeMount(l[4] ?? ''),
      options: l[5] ?? '',
      fstype: r[0] ?? '',
      source: unescapeMount(r[1] ?? ''),
      superOptions: r[2] ?? '',
    });
  }
  return out;
}

/** The mount that holds `path`: the longest mount point that prefixes it; the last one wins when stacked. */
export function mountFor(entries: readonly MountEntry[], path: string): MountEntry | undefined {
  let best: MountEntry | undefined;
  for (const e of entries) {
    const mp = e.mountPoint;
    const covers = mp === '/' || path === mp || path.startsWith(mp.endsWith('/') ? mp : `${mp}/`);
    if (covers && (!best || mp.length >= best.mountPoint.length)) best = e;
  }
  return best;
}

const readTrim = (p: string): string | null => {
  try {
    return readFileSync(p, 'utf8').trim();
  } catch {
    return null;
  }
};

function transportOf(disk: string, devicePath: string): Transport {
  if (disk.startsWith('nvme')) return 'nvme';
  if (disk.startsWith('vd') || devicePath.includes('/virtio')) return 'virtio';
  if (disk.startsWith('xvd')) return 'xen';
  if (disk.startsWith('mmcblk')) return 'mmc';
  if (disk.startsWith('loop')) return 'loop';
  if (disk.startsWith('zram')) return 'zram';
  if (/^ram\d/.test(disk)) return 'ram';
  if (disk.startsWith('md')) return 'md';
  if (disk.startsWith('dm-')) return 'device-mapper';
  // libata disks are sd* too; their sysfs path runs through an ataN host.
  if (disk.startsWith('sd')) return /\/ata\d+\//.test(devicePath) ? 'ata' : 'scsi';
  return 'unknown';
}

interface BlockInfo {
  disk: string;
  partition: string | null;
  sysDir: string;
}

function blockDeviceFor(majorMinor: string): BlockInfo | null {
  if (majorMinor.startsWith('0:')) return null; // anonymous device: tmpfs, overlay, btrfs subvolumes, nfs
  const link = `/sys/dev/block/${majorMinor}`;
  if (!existsSync(link)) return null;
  const real = realpathSync(link);
  if (existsSync(join(real, 'partition'))) {
    const parent = dirname(real);
    return { disk: basename(parent), partition: basename(real), sysDir: parent };
  }
  return { disk: basename(real), partition: null, sysDir: real };
}

async function hypervisorInfo(): Promise<HypervisorInfo> {
  const cpuinfo = readTrim('/proc/cpuinfo') ?? '';
  const cpuFlag = /^flags\s*:.*\bhypervisor\b/m.test(cpuinfo);
  const dmiVendor = readTrim('/sys/class/dmi/id/sys_vendor');
  const dmiProduct = readTrim('/sys/class/dmi/id/product_name');
  let detectVirt: string | null = null;
  if (await hasCommand('systemd-detect-virt')) {
    // Exits 1 and prints "none" on bare metal, so the exit code is not an error here.
    const r = await exec(['systemd-detect-virt'], { allowFailure: true, timeoutMs: 5_000 });
    detectVirt = r.stdout.trim() || null;
  }
  const dmiSaysVm = dmiVendor ? /qemu|kvm|vmware|xen|microsoft|virtualbox|innotek|amazon ec2|google|openstack|parallels|bochs/i.test(`${dmiVendor} ${dmiProduct ?? ''}`) : null;
  const detectSaysVm = detectVirt ? detectVirt !== 'none' : null;
  const votes = [cpuFlag ? true : null, dmiSaysVm, detectSaysVm].filter((v): v is boolean => v !== null);
  return {
    virtualized: votes.length ? votes.some(Boolean) : null,
    cpuFlag,
    dmiVendor,
    dmiProduct,
    detectVirt,
  };
}

/** Describes the storage under `dir` from /proc/self/mountinfo, /sys/block and statfs. */
export async function fingerprintDisk(dir: string, mountinfoText = readFileSync('/proc/self/mountinfo', 'utf8')): Promise<DeviceFingerprint> {
  const real = realpathSync(dir);
  const mount = mountFor(parseMountinfo(mountinfoText), real);
  const block = mount ? blockDeviceFor(mount.majorMinor) : null;
  const sys = block?.sysDir;
  const sysRead = (rel: string) => (sys ? readTrim(join(sys, rel)) : null);
  const rotational = sysRead('queue/rotational');
  const schedulerLine = sysRead('queue/scheduler');
  const devicePath = sys ? realpathSync(sys) : '';
  const st = statfsSync(real);
  const fstype = mount?.fstype ?? 'unknown';
  const disk = block?.disk ?? null;
  return {
    dir: real,
    mountPoint: mount?.mountPoint ?? '/',
    filesystem: fstype,
    mountOptions: [...new Set([mount?.options, mount?.superOptions].filter(Boolean).join(',').split(','))].join(','),
    source: mount?.source ?? 'unknown',
    blockDevice: disk,
    partition: block?.partition ?? null,
    transport: disk ? transportOf(disk, devicePath) : null,
    rotational: rotational === null ? null : rotational === '1',
    model: sysRead('device/model'),
    vendor: sysRead('device/vendor'),
    scheduler: schedulerLine ? (/\[([^\]]+)\]/.exec(schedulerLine)?.[1] ?? schedulerLine) : null,
    writeCache: sysRead('queue/write_cache'),
    memoryBacked: MEMORY_FILESYSTEMS.has(fstype) || (disk !== null && /^(zram|ram)\d/.test(disk)),
    freeBytes: st.bavail * st.bsize,
    totalBytes: st.blocks * st.bsize,
    hypervisor: await hypervisorInfo(),
  };
}
