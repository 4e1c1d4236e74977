import { readFileSync } from 'node:fs';
import { InputError } from '../../util/errors.js';
import { registerSecret } from '../../util/secrets.js';
import { unreadable } from '../../util/yaml-file.js';
import type { ProviderSpec } from '../types.js';
import type { ProviderOptions } from './providers.js';

/**
 * The provider's options from the analysis file's `provider:` and the flags: the address (`provider.url`,
 * else --prometheus-url, else $PROMETHEUS_URL), and the credentials, headers and CA it names, read now (before
 * anything changes) and registered as secrets. A variable that is not set or a file that cannot be read is bad
 * input naming the field.
 */
export function resolveProvider(
  spec: ProviderSpec | undefined,
  flagUrl: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): { type: ProviderSpec['type']; options: ProviderOptions } {
  const type = spec?.type ?? 'prometheus';
  // Only a Prometheus-compatible server falls back to --prometheus-url; the others name their own (or default).
  const url = type === 'prometheus' ? (spec?.url ?? flagUrl ?? env.PROMETHEUS_URL) : spec?.url;
  if (!url && type === 'prometheus')
    throw new InputError(
      '--prometheus-url',
      'required with --analysis (or set PROMETHEUS_URL, or provider.url)',
    );
  const options: ProviderOptions = url ? { url } : {};
  if (!spec) return { type, options };
  if (spec.timeoutMs !== undefined) options.timeoutMs = spec.timeoutMs;
  if (spec.database) options.database = spec.database;
  if (spec.accountId !== undefined) options.accountId = spec.accountId;
  if (spec.windowMs !== undefined) options.windowMs = spec.windowMs;
  if (spec.basicAuth) {
    options.username = spec.basicAuth.username;
    options.password = secret(
      spec.basicAuth.passwordEnv,
      spec.basicAuth.passwordFile,
      'basicAuth.password',
      env,
    );
  }
  if (spec.bearerTokenEnv || spec.bearerTokenFile)
    options.bearerToken = secret(spec.bearerTokenEnv, spec.bearerTokenFile, 'bearerToken', env);
  const headers: Record<string, string> = { ...spec.headers };
  for (const [name, variable] of Object.entries(spec.headersFromEnv ?? {})) {
    const value = env[variable];
    if (!value)
      throw new InputError('--analysis', `provider.headersFromEnv.${name}: ${variable} is not set or empty`);
    registerSecret(value);
    headers[name] = value;
  }
  if (Object.keys(headers).length > 0) options.headers = headers;
  if (spec.caFile) options.ca = readText(spec.caFile, 'provider.caFile');
  return { type: spec.type, options };
}

function secret(
  variable: string | undefined,
  file: string | undefined,
  field: string,
  env: NodeJS.ProcessEnv,
): string {
  let value: string | undefined;
  if (variable) {
    value = env[variable];
    if (!value) throw new InputError('--analysis', `provider.${field}Env: ${variable} is not set or empty`);
  } else {
    value = readText(file!, `provider.${field}File`).trim();
    if (!value) throw new InputError('--analysis', `provider.${field}File: "${file}" is empty`);
  }
  registerSecret(value);
  return value;
}

function readText(path: string, field: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new InputError('--analysis', `${field}: cannot read "${path}": ${unreadable(error)}`);
  }
}
