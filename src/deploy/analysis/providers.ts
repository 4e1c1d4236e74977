/** The metric providers by name: the factory, apart from the provider interface (provider.ts). */
import { InputError } from '../../util/errors.js';
import { CloudWatchProvider } from './cloudwatch.js';
import { DatadogProvider } from './datadog.js';
import { GraphiteProvider } from './graphite.js';
import { type InfluxDbOptions, InfluxDbProvider } from './influxdb.js';
import { NewRelicProvider } from './newrelic.js';
import { type PrometheusOptions, PrometheusProvider } from './prometheus.js';
import type { MetricsProvider } from './provider.js';
import { WebProvider } from './web.js';

export const PROVIDER_NAMES = [
  'prometheus',
  'influxdb',
  'datadog',
  'newrelic',
  'graphite',
  'web',
  'cloudwatch',
] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];

/** Options for every provider: where it is and how to authenticate. Credentials are never logged. */
export type ProviderOptions = Omit<PrometheusOptions, 'url'> & {
  /** Required for prometheus, influxdb, graphite and web; datadog and newrelic default to their public API. */
  url?: string;
  /** influxdb: the database. */
  database?: string;
  /** newrelic: the account the NRQL runs in. */
  accountId?: number;
  /** datadog, graphite, cloudwatch: how far back a query looks. */
  windowMs?: number;
  /** cloudwatch: the region and the access key (read from the environment by resolveProvider). */
  region?: string;
  aws?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
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
    case 'cloudwatch':
      return new CloudWatchProvider({
        region: options.region ?? '',
        ...(options.url && { url: options.url }),
        accessKeyId: options.aws?.accessKeyId ?? '',
        secretAccessKey: options.aws?.secretAccessKey ?? '',
        ...(options.aws?.sessionToken && { sessionToken: options.aws.sessionToken }),
        ...(options.windowMs !== undefined && { windowMs: options.windowMs }),
        ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
      });
    default:
      throw new InputError(
        'metrics provider',
        `unknown provider "${name}"; expected one of ${PROVIDER_NAMES.join(', ')}`,
      );
  }
}
