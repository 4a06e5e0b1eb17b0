import { z } from 'zod';
import { RunSchema } from './results/model.js';
import { ScenarioSchema } from './scenario/schema.js';

/**
 * JSON Schemas for editors and other tools, generated from the zod schemas so they cannot drift.
 * The scenario schema describes what a user *writes* (input side: "10s" strings allowed), the run
 * schema what dpbench *writes*.
 */
export function jsonSchemas(): Record<string, object> {
  return {
    'scenario.schema.json': {
      title: 'dpbench scenario',
      ...z.toJSONSchema(ScenarioSchema, { io: 'input', unrepresentable: 'any' }),
    },
    'run.schema.json': {
      title: 'dpbench run.json',
      ...z.toJSONSchema(RunSchema, { io: 'output', unrepresentable: 'any' }),
    },
  };
}
