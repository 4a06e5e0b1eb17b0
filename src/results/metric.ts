import { z } from 'zod';

// Metric shapes live apart from the run model so probes can use them without importing the
// scenario schema (which itself imports the probes' option schemas).

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
  hdr: z.string().describe('HdrHistogram, compressed and base64-encoded (hdr-histogram-js); empty when derived from buckets'),
  note: z.string().optional().describe('how the numbers were derived, e.g. bucket-interpolated from Prometheus buckets'),
  bucketBounds: z.object({ p99: z.tuple([z.number(), z.number().nullable()]) }).optional(),
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
