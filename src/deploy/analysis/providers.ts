/** The metric providers by name: the factory, apart from the provider interface (provider.ts). */
import { InputError } from '../../util/errors.js';
import { DatadogProvider } from './datadog.js';
import { GraphiteProvider } from './graphite.js';
import { type InfluxDbOptions, InfluxDbProvider } from './influxdb.js';
import { NewRelicProvider } from './newrelic.js';
import { type PrometheusOptions, PrometheusProvider } from './prometheus.js';
import type { MetricsProvider } from './provider.js';
import { WebProvider } from './web.js';

export const PROVIDER_NAMES = ['prometheus', 'influxdb', 'datadog', 'newrelic', 'graphite', 'web'] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];

/** Options for every provider: where it is and how to authenticate. Credentials are never logged. */
export type ProviderOptions = Omit<PrometheusOptions, 'url'> & {
  /** Required for prometheus, influxdb, graphite and web; datadog and newrelic default to their public API. */
  url?: string;
  /** influxdb: the database. */
  database?: string;
  /** newrelic: the account the NRQL runs in. */
  accountId?: number;
  /** datadog, graphite: how far back a query looks. */
  windowMs?: number;
};

/**
 * Picks the provider implementation by name (the one place that knows them all).
 * @throws InputError naming the metrics provider for an unknown name.
 */
export function createProvider(name: string, options: ProviderOptions): MetricsProvider {
  switch (name) {
    case 'prometheus':
      return new PrometheusProvider({ ...options, url: options.url ?? '' });
    case 'influxdb':
      return new InfluxDbProvider({
        ...options,
        url: options.url ?? '',
        database: options.database ?? '',
      } satisfies InfluxDbOptions);
    case 'datadog':
      return new DatadogProvider(options);
    case 'newrelic':
      return new NewRelicProvider({ ...options, accountId: options.accountId ?? 0 });
    case 'graphite':
      return new GraphiteProvider({ ...options, url: options.url ?? '' });
    case 'web':
      return new WebProvider({ ...options, url: options.url ?? '' });
    default:
      throw new InputError(
        'metrics provider',
        `unknown provider "${name}"; expected one of ${PROVIDER_NAMES.join(', ')}`,
      );
  }
}
