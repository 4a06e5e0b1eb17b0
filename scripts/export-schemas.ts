// Regenerates schemas/*.json from the zod schemas: `npm run schemas`.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jsonSchemas } from '../src/schemas.js';

const dir = join(import.meta.dirname, '..', 'schemas');
for (const [name, schema] of Object.entries(jsonSchemas())) {
  writeFileSync(join(dir, name), `${JSON.stringify(schema, null, 2)}\n`);
  console.log(`wrote schemas/${name}`);
}
