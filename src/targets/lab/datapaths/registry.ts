import { badInput } from '../../../errors.js';
import type { DatapathName } from '../../../scenario/schema.js';
import type { Datapath, DatapathFactory, LabContext } from './datapath.js';
import { createEbpfDatapath } from './ebpf.js';
import { createIptablesDatapath } from './iptables.js';
import { createIpvsDatapath } from './ipvs.js';
import { createNftablesDatapath } from './nftables.js';

export const datapathRegistry: Record<DatapathName, DatapathFactory> = {
  iptables: createIptablesDatapath,
  nftables: createNftablesDatapath,
  ipvs: createIpvsDatapath,
  ebpf: createEbpfDatapath,
};

export function createDatapath(name: string, ctx: LabContext): Datapath {
  const factory = Object.hasOwn(datapathRegistry, name) ? datapathRegistry[name as DatapathName] : undefined;
  if (!factory) {
    throw badInput(`unknown datapath "${name}"`, `valid datapaths: ${Object.keys(datapathRegistry).join(', ')}`);
  }
  return factory(ctx);
}
