import type { Metric, TrialStatus } from '../results/model.js';
import type { Trial } from '../scenario/plan.js';
import type { DatapathName } from '../scenario/schema.js';

export interface SwitchOutcome {
  status: 'ok' | 'skipped' | 'failed';
  reason?: string;
  /** What implements the datapath now, for the report. */
  implementation?: string;
  metrics: Record<string, Metric>;
}

export interface Measurement {
  status: TrialStatus;
  reason?: string;
  metrics: Record<string, Metric>;
}

/** Where trials run: the built-in lab, or (later) a real cluster. Same pipeline for both. */
export interface Target {
  readonly kind: 'lab' | 'cluster';
  /** Lab id (or cluster context), known after prepare(); names every object the target creates. */
  readonly id: string | undefined;
  prepare(): Promise<void>;
  /** Removes the previous datapath, installs this one with the background services, proves it carries traffic. */
  switchTo(datapath: DatapathName, services: number, endpoints: number): Promise<SwitchOutcome>;
  measure(trial: Trial, signal?: AbortSignal): Promise<Measurement>;
  /** Always called (finally / signal handlers); must be safe to call twice. */
  teardown(): Promise<void>;
}
