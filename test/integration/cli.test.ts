import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { RunSchema } from '../../src/results/model.js';
import { hostRules, labNamespaces, pidsOf } from './helpers/host.js';

const root = join(import.meta.dirname, '..', '..');
const fixture = (f: string) => join(root, 'test', 'fixtures', f);

async function cli(args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), cwd: root, signal: new AbortController().signal });
  return { code, stdout, stderr };
}

describe('dpbench CLI', () => {
  it('exits 2 on a broken scenario and names every line', async () => {
    const r = await cli(['validate', fixture('broken.yaml')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/test\/fixtures\/broken\.yaml:2:\d+ datapaths\.1: /);
    expect(r.stderr).toMatch(/broken\.yaml:4:\d+ services\.counts\.0: /);
    expect(r.stderr).toMatch(/broken\.yaml:7:\d+ loads\.0\.rate: /);
    expect(r.stderr).toMatch(/^hint: /m);
  });

  it('prints the plan as JSON with --json', async () => {
    const r = await cli(['validate', fixture('tiny.yaml'), '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).trials).toHaveLength(8);
  });

  it('exits 2 on an unknown command or option', async () => {
    expect((await cli(['frobnicate'])).code).toBe(2);
    expect((await cli(['validate', fixture('tiny.yaml'), '--bogus'])).code).toBe(2);
  });

  it('shows examples in --help of every command', async () => {
    for (const c of ['run', 'validate', 'lab', 'doctor', 'cleanup']) {
      const r = await cli([c, '--help']);
      expect(r.code, c).toBe(0);
      expect(r.stdout, c).toMatch(/Examples:/);
    }
  });

  it('doctor reports each prerequisite with its package', async () => {
    const r = await cli(['doctor', '--json']);
    const checks = JSON.parse(r.stdout).checks as { name: string; ok: boolean; package: string }[];
    expect(checks.map((c) => c.name)).toEqual(expect.arrayContaining(['root', 'iptables', 'nftables', 'ipset', 'IP_VS (kernel)', 'bpftool', 'cgroup2', 'etcd', 'fio']));
    expect(checks.every((c) => c.package.length > 0)).toBe(true);
    expect(r.code).toBe(checks.some((c) => !c.ok && ['root', 'netns (iproute2)', 'nginx (echo backend)'].includes(c.name)) ? 3 : 0);
  });
});

describe('Ctrl-C during a run (root)', async () => {
  const out = await mkdtemp(join(tmpdir(), 'dpb-sigint-'));
  afterAll(() => rm(out, { recursive: true, force: true }));

  it('keeps finished trials and leaves no namespace, process, mount or state behind', async () => {
    const rules = hostRules();
    const nginxBefore = new Set(pidsOf('nginx'));
    const child = spawn(process.execPath, ['--import', 'tsx', fixture('cli.ts'), 'run', fixture('tiny.yaml'), '--out', out], { cwd: root });
    let stderr = '';
    let labId = '';
    const code = await new Promise<number | null>((resolve) => {
      child.stderr.on('data', (b: Buffer) => {
        stderr += b.toString();
        labId ||= /lab ([0-9a-f]{6}):/.exec(stderr)?.[1] ?? '';
        // Interrupt in the middle of the second trial, after the first was stored.
        if (/\[2\/8\] \S+: new|\[2\/8\] \S+: keepalive/.test(stderr) && !child.killed) child.kill('SIGINT');
      });
      child.on('close', resolve);
    });
    expect(stderr).toMatch(/SIGINT: stopping after cleanup/);
    expect(code).toBe(3);
    expect(labId).not.toBe('');
    expect(labNamespaces(labId)).toEqual([]);
    expect(existsSync(`/run/dpbench/${labId}`)).toBe(false);
    expect(pidsOf('nginx').filter((p) => !nginxBefore.has(p))).toEqual([]);
    expect(hostRules()).toBe(rules);
    const [runId] = await readdir(out);
    const run = RunSchema.parse(JSON.parse(await readFile(join(out, runId!, 'run.json'), 'utf8')));
    expect(run.trials.length).toBeGreaterThanOrEqual(1);
    expect(run.trials[0]!.status).not.toBe('failed');
  });
});
