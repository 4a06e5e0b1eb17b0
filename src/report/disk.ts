import type { DeviceFingerprint } from '../probes/disk-fingerprint.js';
import type { Verdict } from '../probes/disk-verdict.js';
import { isDistribution, type HostProbe } from '../results/model.js';
import { formatMicros } from '../scenario/units.js';

const value = (v: number | null, unit: string) => (v === null ? '–' : unit === 'us' ? formatMicros(v) : `${Math.round(v)} ${unit}`);

/** The disk probe's section of summary.md: the probe and the real etcd side by side, then the verdicts. */
export function diskMarkdown(p: HostProbe): string {
  const device = p.details.device as DeviceFingerprint | undefined;
  const verdicts = (p.details.verdicts as Verdict[] | undefined) ?? [];
  const warnings = (p.details.warnings as string[] | undefined) ?? [];
  const lines = ['## Disk (etcd-style fdatasync)', ''];
  if (device) {
    lines.push(
      `\`${device.dir}\` on ${device.blockDevice ?? device.source} (${device.filesystem}, ${device.transport ?? 'unknown transport'}, model ${device.model ?? 'unknown'}, rotational as reported: ${device.rotational ?? 'unknown'}, virtualized: ${device.hypervisor?.virtualized === null ? 'unknown' : device.hypervisor?.virtualized ? device.hypervisor.dmiVendor ?? device.hypervisor.detectVirt ?? 'yes' : 'no'}).`,
      '',
    );
  }
  lines.push(`Status: ${p.status}${p.reason ? ` (${p.reason})` : ''}.`, '');
  lines.push('| metric | count | p50 | p99 | p99.9 | max | how |', '|---|---:|---:|---:|---:|---:|---|');
  for (const [name, m] of Object.entries(p.metrics)) {
    if (isDistribution(m)) {
      lines.push(`| ${name} | ${m.count} | ${formatMicros(m.p50)} | ${formatMicros(m.p99)} | ${formatMicros(m.p999)} | ${formatMicros(m.max)} | ${m.note ?? 'HDR histogram'} |`);
    } else {
      lines.push(`| ${name} | | | | | | ${m.value} ${m.unit} |`);
    }
  }
  if (verdicts.length) {
    lines.push('', '| check | measured | threshold | verdict | source |', '|---|---:|---|---|---|');
    for (const v of verdicts) {
      const t = v.threshold.max !== undefined ? `< ${value(v.threshold.max, v.threshold.unit)}` : `≥ ${value(v.threshold.min ?? 0, v.threshold.unit)}`;
      const verdict = v.pass === null ? 'not measured' : `${v.pass ? 'pass' : 'FAIL'}${v.certainty && v.certainty !== 'exact' ? ` (${v.certainty})` : ''}`;
      lines.push(`| ${v.label} | ${value(v.value, v.threshold.unit)} | ${t} | ${verdict} | [${v.source.title}](${v.source.url}) |`);
    }
  }
  for (const w of warnings) lines.push('', `> warning: ${w}`);
  return `${lines.join('\n')}\n`;
}
