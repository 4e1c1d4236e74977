/** The metric providers by name: the factory, apart from the provider interface (provider.ts). */
import { InputError } from '../../util/errors.js';
import { type InfluxDbOptions, InfluxDbProvider } from './influxdb.js';
import { type PrometheusOptions, PrometheusProvider } from './prometheus.js';
import type { MetricsProvider } from './provider.js';

export const PROVIDER_NAMES = ['prometheus', 'influxdb'] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];

/** Options for every provider: where it is and how to authenticate. Credentials are never logged. */
export type ProviderOptions = PrometheusOptions & { database?: string };

/**
 * Picks the provider implementation by name (the one place that knows them all).
 * @throws InputError naming the metrics provider for an unknown name.
 */
export function createProvider(name: string, options: ProviderOptions): MetricsProvider {
  switch (name) {
    case 'prometheus':
      return new PrometheusProvider(options);
    case 'influxdb':
      return new InfluxDbProvider({ ...options, database: options.database ?? '' } satisfies InfluxDbOptions);
    default:
      throw new InputError(
        'metrics provider',
        `unknown provider "${name}"; expected one of ${PROVIDER_NAMES.join(', ')}`,
      );
  }
}
