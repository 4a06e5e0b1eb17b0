import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverPodIp, serviceVip, type ServiceSpec } from '../../../../../src/targets/lab/addressing.js';
import type { Datapath } from '../../../../../src/targets/lab/datapaths/datapath.js';
import { createDatapath } from '../../../../../src/targets/lab/datapaths/registry.js';
import { labDown, labUp, type Lab } from '../../../../../src/targets/lab/topology.js';
import { exec } from '../../../../../src/util/exec.js';
import { datapathContract, inClient } from './mini-lab.js';

describe('ebpf datapath', () => {
  datapathContract({
    name: 'ebpf',
    iptables: 'nft',
    describeMatches: /^lab: Cilium-style socket LB \(cgroup connect4\/sendmsg4\/recvmsg4; clang version 14[\d.]*, bpftool v[\d.]+\), 152 map entries$/,
    leftovers: async (lab) => {
      const attached = (await exec(['bpftool', 'cgroup', 'show', lab.clientCgroup])).stdout.trim();
      const pins = existsSync(join(lab.bpffs, 'dpbench-lb')) ? `pins under ${lab.bpffs}` : '';
      return [attached, pins].filter(Boolean).join('\n');
    },
  });
});

describe('ebpf datapath, UDP through sendmsg4/recvmsg4', () => {
  let lab: Lab;
  let dp: Datapath;
  let echo: ChildProcess | undefined;
  const udp: ServiceSpec = {
    index: 200,
    name: 'dns',
    namespace: 'bench',
    vip: serviceVip(200),
    port: 53,
    protocol: 'udp',
    endpoints: [{ ip: serverPodIp(0), port: 5353 }],
  };

  beforeAll(async () => {
    lab = await labUp({ pods: 1, iptables: 'nft' });
    echo = spawn('ip', ['netns', 'exec', lab.serverNs[0]!, process.execPath, '-e', UDP_ECHO], { stdio: ['ignore', 'pipe', 'ignore'] });
    await new Promise((r) => echo!.stdout!.once('data', r));
    dp = createDatapath('ebpf', lab);
    await dp.install([udp]);
  }, 60_000);

  afterAll(async () => {
    if (echo?.pid) process.kill(echo.pid, 'SIGKILL');
    await dp?.uninstall().catch(() => {});
    if (lab) await labDown(lab);
  }, 60_000);

  it('sends unconnected datagrams to a backend and shows the reply as coming from the VIP', async () => {
    const before = await dp.decisions();
    const r = await inClient(lab, [process.execPath, '-e', UDP_ASK, udp.vip, String(udp.port)]);
    expect(r.stderr).toBe('');
    // The backend saw the client's real address; the client saw the VIP as the reply's source.
    expect(JSON.parse(r.stdout)).toEqual({ body: `echo from ${serverPodIp(0)}:5353`, from: `${udp.vip}:53` });
    expect(await dp.decisions()).toBe(before + 1);
  }, 30_000);
});

const UDP_ECHO = `
const s = require('node:dgram').createSocket('udp4');
s.on('message', (m, r) => s.send('echo from ' + s.address().address + ':' + s.address().port, r.port, r.address));
s.bind(5353, '${serverPodIp(0)}', () => console.log('ready'));
setTimeout(() => process.exit(0), 60000);`;

const UDP_ASK = `
const [vip, port] = process.argv.slice(1);
const s = require('node:dgram').createSocket('udp4');
const t = setTimeout(() => { console.error('no reply'); process.exit(1); }, 2000);
s.on('message', (m, r) => { console.log(JSON.stringify({ body: String(m), from: r.address + ':' + r.port })); s.close(); clearTimeout(t); });
s.send('hi', Number(port), vip);`;
