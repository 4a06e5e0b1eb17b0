import { z } from 'zod';
import { DATAPATHS, LoadProfileSchema } from '../scenario/schema.js';

export const SCHEMA_VERSION = 1;

/** A latency (or any) distribution. Percentiles come from `hdr`, never from averaging. */
export const DistributionSchema = z.object({
  unit: z.string().describe('us for latencies'),
  count: z.number().int().nonnegative(),
  min: z.number().optional(),
  mean: z.number().optional(),
  p50: z.number(),
  p90: z.number(),
  p95: z.number(),
  p99: z.number(),
  p999: z.number(),
  max: z.number(),
  hdr: z.string().describe('HdrHistogram, compressed and base64-encoded (hdr-histogram-js)'),
});
export type Distribution = z.infer<typeof DistributionSchema>;

export const ScalarSchema = z.object({
  unit: z.string(),
  value: z.number(),
});
export type Scalar = z.infer<typeof ScalarSchema>;

export const MetricSchema = z.union([DistributionSchema, ScalarSchema]);
export type Metric = z.infer<typeof MetricSchema>;

export const isDistribution = (m: Metric): m is Distribution => 'hdr' in m;

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

export const RunSchema = z.object({
  schemaVersion: z.literal(SCHEMA_VERSION),
  runId: z.string(),
  startedAt: z.string(),
  endedAt: z.string().optional(),
  scenario: z.record(z.string(), z.unknown()).describe('the validated scenario, with defaults filled in'),
  scenarioFile: z.string().optional(),
  fingerprint: FingerprintSchema,
  trials: z.array(TrialResultSchema),
});
export type Run = z.infer<typeof RunSchema>;
