import { describe, expect, it } from 'vitest';
import { DpbenchError } from '../../../../../src/errors.js';
import { DATAPATHS } from '../../../../../src/scenario/schema.js';
import { createDatapath, datapathRegistry } from '../../../../../src/targets/lab/datapaths/registry.js';
import type { LabContext } from '../../../../../src/targets/lab/datapaths/datapath.js';

const ctx: LabContext = {
  id: 'x',
  nodeNs: 'n',
  clientNs: 'c',
  runDir: '/nonexistent',
  clientCgroup: '/nonexistent/cg',
  bpffs: '/nonexistent/bpf',
  iptables: 'nft',
};

describe('datapathRegistry', () => {
  it('has a factory for every datapath the schema accepts, each named after its key', () => {
    expect(Object.keys(datapathRegistry).sort()).toEqual([...DATAPATHS].sort());
    for (const name of DATAPATHS) expect(createDatapath(name, ctx).name).toBe(name);
  });

  it('rejects an unknown name with BAD_INPUT listing the valid ones', () => {
    const err = (() => {
      try {
        createDatapath('toString', ctx);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(DpbenchError);
    expect((err as DpbenchError).code).toBe('BAD_INPUT');
    expect((err as DpbenchError).hint).toBe('valid datapaths: iptables, nftables, ipvs, ebpf');
  });
});
