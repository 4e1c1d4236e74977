/**
 * The analysis of a rollout (DESIGN.md, "Analysis"): metric providers, the analysis file, the judgement and
 * the loop the strategies call once per step.
 */

// --- the loop ---
export {
  type AnalysisStepOptions,
  type AnalysisStepOutcome,
  type AnalysisVars,
  measurementCount,
  runAnalysisStep,
  validateQueries,
} from './analysis.js';
// --- judgement ---
export {
  type AnalysisCheck,
  AnalysisRun,
  type CheckKind,
  type Decision,
  judgeValue,
  type MetricTally,
  type StepVerdict,
} from './judge.js';
export {
  type Alternative,
  type CompareOptions,
  type CompareResult,
  cliffsDelta,
  compareSamples,
  type MannWhitneyResult,
  mannWhitneyU,
} from './mann-whitney.js';
export { type PrometheusOptions, PrometheusProvider } from './prometheus.js';
// --- providers ---
export {
  type MetricsProvider,
  MultipleValuesError,
  NoDataError,
  type QueryOptions,
} from './provider.js';
export { createProvider, PROVIDER_NAMES, type ProviderName, type ProviderOptions } from './providers.js';
// --- the analysis file ---
export {
  analysisSchema,
  COMPARE_DEFAULTS,
  DEFAULT_FAILURE_LIMIT,
  DEFAULT_INCONCLUSIVE_LIMIT,
  DEFAULT_INTERVAL,
  loadAnalysisFile,
  parseAnalysis,
  parseDuration,
} from './spec.js';
export { formatPromDuration, PLACEHOLDERS, type QueryVars, renderQuery } from './template.js';
