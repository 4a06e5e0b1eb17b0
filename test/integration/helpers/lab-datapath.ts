import { afterAll, beforeAll, expect } from 'vitest';
import type { DatapathName } from '../../../src/scenario/schema.js';
import type { ServiceSpec } from '../../../src/targets/lab/addressing.js';
import type { Datapath } from '../../../src/targets/lab/datapaths/datapath.js';
import { createDatapath } from '../../../src/targets/lab/datapaths/registry.js';
import { labDown, labUp, type Lab } from '../../../src/targets/lab/topology.js';

/**
 * A lab with one datapath for the enclosing describe block: built in beforeAll (and, given
 * `services`, checked available and installed), uninstalled and removed in afterAll. Read
 * `t.lab` and `t.dp` inside the tests.
 */
export function labWithDatapath(
  name: DatapathName,
  o: { services?: readonly ServiceSpec[]; iptables?: 'nft' | 'legacy' } = {},
): { lab: Lab; dp: Datapath } {
  const t = {} as { lab: Lab; dp: Datapath };
  beforeAll(async () => {
    t.lab = await labUp({ pods: 2, iptables: o.iptables ?? 'nft' });
    t.dp = createDatapath(name, t.lab);
    if (o.services) {
      expect(await t.dp.unavailable()).toBeNull();
      await t.dp.install(o.services);
    }
  }, 60_000);
  afterAll(async () => {
    await t.dp?.uninstall().catch(() => {});
    if (t.lab) await labDown(t.lab);
  }, 60_000);
  return t;
}
