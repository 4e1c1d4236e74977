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
  if (spec.type === 'cloudwatch') Object.assign(options, awsOptions(spec, env));
  return { type: spec.type, options };
}

const AWS_REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

/**
 * CloudWatch's region (provider.region, else $AWS_REGION, else $AWS_DEFAULT_REGION) and access key: from the
 * variables the file names, else from the standard AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and (optional)
 * AWS_SESSION_TOKEN. All three are secrets from here on.
 */
function awsOptions(spec: ProviderSpec, env: NodeJS.ProcessEnv): Pick<ProviderOptions, 'region' | 'aws'> {
  const region = spec.region ?? (env.AWS_REGION || undefined) ?? (env.AWS_DEFAULT_REGION || undefined);
  if (!region)
    throw new InputError(
      '--analysis',
      'provider.region: required with type cloudwatch (or set AWS_REGION or AWS_DEFAULT_REGION)',
    );
  if (!AWS_REGION.test(region))
    throw new InputError(
      '--analysis',
      `provider.region: expected an AWS region like eu-west-1, got "${region}" from ${env.AWS_REGION ? 'AWS_REGION' : 'AWS_DEFAULT_REGION'}`,
    );
  const named = spec.accessKeyIdEnv !== undefined;
  const read = (field: string, variable: string, required: boolean): string | undefined => {
    const value = env[variable];
    if (!value && required)
      throw new InputError(
        '--analysis',
        named
          ? `provider.${field}: ${variable} is not set or empty`
          : `provider: type cloudwatch needs an AWS access key: ${variable} is not set or empty (or name the variables with provider.accessKeyIdEnv and secretAccessKeyEnv)`,
      );
    registerSecret(value || undefined);
    return value || undefined;
  };
  const accessKeyId = read('accessKeyIdEnv', spec.accessKeyIdEnv ?? 'AWS_ACCESS_KEY_ID', true)!;
  const secretAccessKey = read(
    'secretAccessKeyEnv',
    spec.secretAccessKeyEnv ?? 'AWS_SECRET_ACCESS_KEY',
    true,
  )!;
  const sessionToken = named
    ? spec.sessionTokenEnv && read('sessionTokenEnv', spec.sessionTokenEnv, true)
    : read('sessionTokenEnv', 'AWS_SESSION_TOKEN', false);
  return { region, aws: { accessKeyId, secretAccessKey, ...(sessionToken && { sessionToken }) } };
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
