import { z } from 'zod';
import { DATAPATHS, LoadProfileSchema } from '../scenario/schema.js';
import { MetricSchema } from './metric.js';

export const SCHEMA_VERSION = 1;

export * from './metric.js';

export const TRIAL_STATUSES = ['ok', 'invalid', 'skipped', 'failed'] as const;
export type TrialStatus = (typeof TRIAL_STATUSES)[number];

export const TrialResultSchema = z.object({
  id: z.string(),
  datapath: z.enum(DATAPATHS),
  services: z.number().int(),
  endpoints: z.number().int(),
  load: z.object(LoadProfileSchema.shape),
  repeat: z.number().int(),
  status: z.enum(TRIAL_STATUSES),
  reason: z.string().optional(),
  /** What programmed the datapath, e.g. "lab: kube-proxy-shaped iptables (iptables-nft v1.8.9), 40,002 rules". */
  implementation: z.string().optional(),
  startedAt: z.string(),
  endedAt: z.string(),
  metrics: z.record(z.string(), MetricSchema),
});
export type TrialResult = z.infer<typeof TrialResultSchema>;

export const FingerprintSchema = z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]));
export type Fingerprint = z.infer<typeof FingerprintSchema>;

/** A probe of the host rather than of a datapath (the disk), run once per run. */
export const HostProbeSchema = z.object({
  status: z.enum(TRIAL_STATUSES),
  reason: z.string().optional(),
  metrics: z.record(z.string(), MetricSchema),
  details: z.record(z.string(), z.unknown()).describe('probe-specific facts: device fingerprint, verdicts, warnings'),
});
export type HostProbe = z.infer<typeof HostProbeSchema>;

export const RunSchema = z.object({
  schemaVersion: z.literal(SCHEMA_VERSION),
  runId: z.string(),
  startedAt: z.string(),
  endedAt: z.string().optional(),
  scenario: z.record(z.string(), z.unknown()).describe('the validated scenario, with defaults filled in'),
  scenarioFile: z.string().optional(),
  fingerprint: FingerprintSchema,
  trials: z.array(TrialResultSchema),
  hostProbes: z.record(z.string(), HostProbeSchema).optional(),
});
export type Run = z.infer<typeof RunSchema>;
