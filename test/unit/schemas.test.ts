import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonSchemas } from '../../src/schemas.js';

describe('exported JSON Schemas', () => {
  it.each(Object.entries(jsonSchemas()))('schemas/%s matches the zod schema (run `npm run schemas`)', (name, schema) => {
    const committed = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'schemas', name), 'utf8'));
    expect(committed).toEqual(JSON.parse(JSON.stringify(schema)));
  });

  it('lets editors complete datapath names', () => {
    const s = jsonSchemas()['scenario.schema.json'] as { properties: { datapaths: { items: { enum: string[] } } } };
    expect(s.properties.datapaths.items.enum).toEqual(['iptables', 'nftables', 'ipvs', 'ebpf']);
  });
});
