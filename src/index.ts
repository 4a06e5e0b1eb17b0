// Public API: re-exports only.
export { DpbenchError, ExitCode } from './errors.js';
export { loadScenario, parseScenario } from './scenario/load.js';
export { planTrials, type Trial } from './scenario/plan.js';
export { ScenarioSchema, type Scenario, type LoadProfile, DATAPATHS, type DatapathName } from './scenario/schema.js';
export { RunSchema, type Run, type TrialResult, type Metric, type Distribution, type Scalar } from './results/model.js';
export { runScenario, type RunOptions, type RunOutcome } from './run.js';
export { runOpenLoop } from './load/open-loop.js';
export { mergeHistograms, toDistribution } from './results/histogram.js';
export { markdownSummary } from './report/summary.js';
export { runDoctor } from './doctor.js';
