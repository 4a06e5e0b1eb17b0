import { describe, expect, it } from 'vitest';
import { backgroundServices } from '../../../../../src/targets/lab/addressing.js';
import { BackendTable, createEbpfDatapath, lb4Key, lbAddBatch, lbRemoveBatch, sumPerCpu } from '../../../../../src/targets/lab/datapaths/ebpf.js';

const maps = { services: '/b/maps/lb4_services', backends: '/b/maps/lb4_backends' };

describe('lb map batches', () => {
  it('encodes struct lb4_key: VIP and port in network order, slot little-endian, proto', () => {
    const [svc] = backgroundServices(1, 1, 1);
    expect(lb4Key(svc!, 0)).toBe('c6 13 01 00 00 50 00 00 06 00 00 00');
    expect(lb4Key(svc!, 258)).toBe('c6 13 01 00 00 50 02 01 06 00 00 00');
  });

  it('writes nothing for no services', () => expect(lbAddBatch([], maps, new BackendTable())).toEqual([]));

  it('writes backends once, then k slots and the service entry per service (slot 0 after its slots)', () => {
    const svcs = backgroundServices(100, 3, 4);
    const lines = lbAddBatch(svcs, maps, new BackendTable());
    const backends = lines.filter((l) => l.includes('lb4_backends'));
    expect(backends).toHaveLength(4); // 4 pods shared by every service
    expect(backends[0]).toBe('map update pinned /b/maps/lb4_backends key hex 01 00 00 00 value hex c6 12 02 0a 1f 90 06 00');
    const svcLines = lines.filter((l) => l.includes('lb4_services'));
    expect(svcLines).toHaveLength(100 * 4);
    // service 0: slots 1..3 then slot 0 whose value carries count 3
    expect(svcLines[3]).toContain(`key hex ${lb4Key(svcs[0]!, 0)} value hex 00 00 00 00 03 00 01 00`);
    for (let s = 1; s <= 3; s++) expect(svcLines[s - 1]).toContain(`key hex ${lb4Key(svcs[0]!, s)}`);
    expect(lines.indexOf(backends.at(-1)!)).toBeLessThan(lines.indexOf(svcLines[0]!));
  });

  it('removes slot 0 first and frees backends only when their last service goes', () => {
    const table = new BackendTable();
    const svcs = backgroundServices(2, 1, 2); // svc-0 → pod 0, svc-1 → pod 1
    lbAddBatch(svcs, maps, table);
    const shared = { ...svcs[1]!, index: 5, name: 'svc-5', vip: '198.19.1.5', endpoints: svcs[0]!.endpoints };
    lbAddBatch([shared], maps, table);
    const rm0 = lbRemoveBatch(svcs[0]!, maps, table);
    expect(rm0[0]).toContain(`key hex ${lb4Key(svcs[0]!, 0)}`);
    expect(rm0.filter((l) => l.includes('lb4_backends'))).toHaveLength(0); // still used by svc-5
    const rm5 = lbRemoveBatch(shared, maps, table);
    expect(rm5.filter((l) => l.includes('lb4_backends'))).toEqual(['map delete pinned /b/maps/lb4_backends key hex 01 00 00 00']);
    expect(table.size).toBe(1);
  });
});

describe('sumPerCpu', () => {
  it('sums BTF-formatted values', () =>
    expect(sumPerCpu('{"key":[],"values":[],"formatted":{"key":0,"values":[{"cpu":0,"value":3},{"cpu":1,"value":4}]}}')).toBe(7));
  it('sums raw little-endian bytes without BTF', () =>
    expect(sumPerCpu('{"key":[],"values":[{"cpu":0,"value":["0x01","0x01","0x00","0x00","0x00","0x00","0x00","0x00"]},{"cpu":1,"value":["0x02","0x00","0x00","0x00","0x00","0x00","0x00","0x00"]}]}')).toBe(259));
});

describe('ebpf install', () => {
  it('refuses, before touching the kernel, more services × endpoints than lb4_services holds', async () => {
    const ctx = { id: 'x', nodeNs: 'n', clientNs: 'c', runDir: '/nonexistent', clientCgroup: '/nonexistent', bpffs: '/nonexistent', iptables: 'nft' as const };
    const svcs = backgroundServices(60_000, 9, 4);
    await expect(createEbpfDatapath(ctx).install(svcs)).rejects.toMatchObject({ code: 'BAD_INPUT' });
  });
});
