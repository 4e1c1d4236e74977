import type { GantryConfig } from '../../config/schema.js';
import { InputError } from '../../util/errors.js';
import type { StepAnalyzer } from '../strategies/types.js';
import type { Check } from '../types.js';
import { resolveProvider } from './provider-config.js';

/** A strategy's {@link StepAnalyzer} that also reports every check it makes (for the run report). */
export type Analyzer = (
  options: Parameters<StepAnalyzer>[0] & {
    /** The run label of the new version's pods (`{{run}}`). */
    run: string;
    onCheck: (check: Check) => void;
  },
) => ReturnType<StepAnalyzer>;

/**
 * Reads the analysis file, connects the provider and validates every query (rendered with this rollout's
 * placeholders) before anything changes: a query that does not parse is bad input (exit 2), a provider that
 * does not answer is an infrastructure error (exit 3). Returns undefined when the rollout has no analysis.
 *
 * A rolling update has no baseline beside the new version (its pods are the stable Deployment's, on the
 * `stable` track, where `{{canary}}` and `{{track}}` point too), so a metric with `compare` is refused for it:
 * it would compare the new version with itself and always pass.
 */
export async function prepareAnalysis(
  config: GantryConfig,
  vars: { namespace: string; name: string; run: string },
): Promise<Analyzer | undefined> {
  const d = config.deploy;
  if (!d.analysis) return undefined;
  const analysis = await import('./index.js');
  const spec = analysis.loadAnalysisFile(d.analysis);
  const compared = spec.metrics.find((metric) => metric.compare || metric.sequential);
  if (d.strategy === 'rolling' && compared) {
    throw new InputError(
      '--analysis',
      `metric "${compared.name}": ${compared.compare ? 'compare' : 'sequential'} needs a baseline beside the new version, and a rolling update has none; use --strategy canary or blue-green, or remove ${compared.compare ? 'compare' : 'sequential'}`,
    );
  }
  const source = resolveProvider(spec.provider, d.prometheusUrl);
  const provider = analysis.createProvider(source.type, source.options);
  await analysis.validateQueries(spec, provider, {
    ...vars,
    ...(d.strategy === 'rolling' && { canary: 'stable' }),
  });
  const run = new analysis.AnalysisRun(spec);
  return async ({ step, durationMs, track, signal, run: runLabel, onCheck, mayEndEarly }) => {
    const result = await analysis.runAnalysisStep({
      spec,
      provider,
      vars: { ...vars, canary: track, stable: 'stable', run: runLabel },
      step,
      durationMs,
      run,
      signal,
      onCheck,
      mayEndEarly,
    });
    return {
      outcome: result.outcome,
      reason: result.reason,
      decidedAt: result.decidedAt,
      cancelled: result.cancelled,
      infrastructure: result.infrastructure,
    };
  };
}
