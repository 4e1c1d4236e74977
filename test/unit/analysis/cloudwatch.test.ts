import { describe, expect, it } from 'vitest';
import { CloudWatchProvider, describeFailure, newestValue } from '../../../src/deploy/analysis/cloudwatch.js';
import {
  formatCloudWatchQuery,
  parseCloudWatchQuery,
} from '../../../src/deploy/analysis/cloudwatch-query.js';
import { NoDataError } from '../../../src/deploy/analysis/provider.js';
import { resolveProvider } from '../../../src/deploy/analysis/provider-config.js';
import { createProvider } from '../../../src/deploy/analysis/providers.js';
import { parseAnalysis } from '../../../src/deploy/analysis/spec.js';
import { InfraError, InputError } from '../../../src/util/errors.js';
import { redact } from '../../../src/util/secrets.js';

function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

describe('a CloudWatch query', () => {
  it('reads namespace, metric, dimensions, statistic and period', () => {
    expect(
      parseCloudWatchQuery('Gantry/Shop ErrorRatio{Namespace="shop-1", Track="canary"} Average 30s'),
    ).toEqual({
      namespace: 'Gantry/Shop',
      metricName: 'ErrorRatio',
      dimensions: [
        { name: 'Namespace', value: 'shop-1' },
        { name: 'Track', value: 'canary' },
      ],
      stat: 'Average',
      period: 30,
    });
  });

  it('takes bare or quoted words, no dimensions, and 60 s when the period is left out', () => {
    expect(parseCloudWatchQuery('  AWS/EC2 CPUUtilization Maximum  ')).toEqual({
      namespace: 'AWS/EC2',
      metricName: 'CPUUtilization',
      dimensions: [],
      stat: 'Maximum',
      period: 60,
    });
    expect(
      parseCloudWatchQuery(
        'AWS/ApplicationELB TargetResponseTime { LoadBalancer = app/web/50dc6c495c0c9188 } p99.9 5m',
      ),
    ).toMatchObject({
      dimensions: [{ name: 'LoadBalancer', value: 'app/web/50dc6c495c0c9188' }],
      period: 300,
    });
    expect(parseCloudWatchQuery('"My App" "Errors, total"{"Stage name"="a \\"b\\""} Sum 120')).toEqual({
      namespace: 'My App',
      metricName: 'Errors, total',
      dimensions: [{ name: 'Stage name', value: 'a "b"' }],
      stat: 'Sum',
      period: 120,
    });
    expect(parseCloudWatchQuery('NS M{} SampleCount 1s').dimensions).toEqual([]);
  });

  it.each(['p99', 'p0.5', 'p100', 'tm90', 'wm99.5', 'TM(10%:90%)', 'TC(:0.5)', 'PR(100:2000)', 'IQM'])(
    'takes the extended statistic %s',
    (stat) => {
      expect(parseCloudWatchQuery(`NS M ${stat} 60s`).stat).toBe(stat);
    },
  );

  it('writes a parsed query back in its canonical form', () => {
    expect(formatCloudWatchQuery(parseCloudWatchQuery('"My App" Errors{Stage=prod} Sum 2m'))).toBe(
      '"My App" Errors{Stage="prod"} Sum 120s',
    );
  });

  it.each([
    ['', 'expected the namespace, found the end of the query'],
    ['Gantry/Shop', 'expected white space between the namespace and the metric name'],
    ['Gantry/Shop ErrorRatio', 'expected a statistic (Average, Sum, Maximum, p99, …) after the metric'],
    ['Gantry/Shop ErrorRatio{Track="canary"}', 'expected a statistic'],
    ['NS M{Track} Average', 'expected "=" after dimension "Track"'],
    ['NS M{Track=} Average', 'expected the value of dimension "Track", found "}"'],
    ['NS M{Track="a" Stage="b"} Average', 'expected "," or "}" after a dimension'],
    ['NS M{Track="a", Track="b"} Average', 'dimension "Track" is given twice'],
    ['NS M{Track="a} Average', 'the value of dimension "Track": the quoted string has no closing "'],
    ['NS M{Track=""} Average', 'the value of dimension "Track" is empty'],
    ['NS M{Track="a"}Average', 'expected white space after "}"'],
    ['NS M average', 'statistic "average" is spelled "Average"'],
    ['NS M Median', 'unknown statistic "Median"'],
    ['NS M p101', 'unknown statistic "p101"'],
    ['NS M Average 2', 'period "2" must be 1, 5, 10, 20 or 30 seconds'],
    ['NS M Average 1 minute', 'unexpected "minute" after the period'],
    ['NS M Average 45s', 'period "45s" must be 1, 5, 10, 20 or 30 seconds, or a multiple of 60 seconds'],
    ['NS M Average 1.5s', 'period "1.5s" is not a whole number of seconds'],
    ['NS M Average soon', 'period "soon" is not a duration (60s, 1m, 300)'],
    ['NS M Average 60s extra', 'unexpected "extra" after the period'],
    ['NS M Average, Sum', 'unexpected ", Sum" after the statistic'],
    [':NS M Average', 'a namespace cannot start with ":"'],
  ])('refuses %j in one line naming the metric', (query, message) => {
    const error = errorOf(() => parseCloudWatchQuery(query, 'error-ratio'));
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toContain('--analysis: metric "error-ratio": CloudWatch query does not parse: ');
    expect(error.message).toContain(message);
    expect(error.message).not.toContain('\n');
  });
});

describe('the analysis file: provider type cloudwatch', () => {
  const metrics = [{ name: 'errors', query: 'NS M Average', max: 1 }];
  const withProvider = (provider: unknown) => parseAnalysis({ metrics, provider });

  it('reads the region, an endpoint, the key variables and the window', () => {
    expect(
      withProvider({
        type: 'cloudwatch',
        region: 'eu-west-1',
        url: 'http://127.0.0.1:5000',
        accessKeyIdEnv: 'CW_KEY_ID',
        secretAccessKeyEnv: 'CW_SECRET',
        sessionTokenEnv: 'CW_TOKEN',
        window: '2m',
        timeout: '3s',
      }).provider,
    ).toEqual({
      type: 'cloudwatch',
      region: 'eu-west-1',
      url: 'http://127.0.0.1:5000',
      accessKeyIdEnv: 'CW_KEY_ID',
      secretAccessKeyEnv: 'CW_SECRET',
      sessionTokenEnv: 'CW_TOKEN',
      windowMs: 120_000,
      timeoutMs: 3000,
    });
  });

  it.each([
    [{ type: 'cloudwatch', region: 'Ireland' }, 'provider.region: expected an AWS region like eu-west-1'],
    [
      { type: 'cloudwatch', accessKeyIdEnv: 'A' },
      'provider.secretAccessKeyEnv: name both accessKeyIdEnv and secretAccessKeyEnv, or neither',
    ],
    [
      { type: 'cloudwatch', sessionTokenEnv: 'T' },
      'provider.sessionTokenEnv: only with accessKeyIdEnv and secretAccessKeyEnv',
    ],
    [
      { type: 'cloudwatch', bearerTokenEnv: 'T' },
      'provider.bearerTokenEnv: not with type cloudwatch: its requests are signed with an AWS access key',
    ],
    [{ type: 'cloudwatch', headers: { 'X-A': 'b' } }, 'provider.headers: not with type cloudwatch'],
    [{ region: 'eu-west-1' }, 'provider.region: only with type cloudwatch'],
    [
      { type: 'influxdb', url: 'http://i', database: 'd', accessKeyIdEnv: 'A' },
      'provider.accessKeyIdEnv: only with type cloudwatch',
    ],
    [
      { type: 'cloudwatch', accessKeyIdEnv: 'not a name', secretAccessKeyEnv: 'S' },
      'provider.accessKeyIdEnv',
    ],
  ])('refuses %j', (provider, message) => {
    const error = errorOf(() => withProvider(provider));
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toContain(`--analysis: ${message}`);
  });

  const spec = (provider: Record<string, unknown>) =>
    withProvider({ type: 'cloudwatch', ...provider }).provider;

  it('reads the named variables at pre-flight and masks them from then on', () => {
    const resolved = resolveProvider(
      spec({
        region: 'eu-west-1',
        accessKeyIdEnv: 'CW_ID',
        secretAccessKeyEnv: 'CW_SECRET',
        sessionTokenEnv: 'CW_TOKEN',
      }),
      undefined,
      {
        CW_ID: 'AKIAUNITTEST00000001',
        CW_SECRET: 'cw-secret-a81f',
        CW_TOKEN: 'cw-token-99e2',
        PROMETHEUS_URL: 'http://p',
      },
    );
    expect(resolved).toEqual({
      type: 'cloudwatch',
      options: {
        region: 'eu-west-1',
        aws: {
          accessKeyId: 'AKIAUNITTEST00000001',
          secretAccessKey: 'cw-secret-a81f',
          sessionToken: 'cw-token-99e2',
        },
      },
    });
    expect(redact('id AKIAUNITTEST00000001 secret cw-secret-a81f token cw-token-99e2')).not.toMatch(
      /AKIAUNITTEST00000001|cw-secret-a81f|cw-token-99e2/,
    );
  });

  it('falls back to the standard AWS variables, the session token optional', () => {
    expect(
      resolveProvider(spec({}), undefined, {
        AWS_REGION: 'us-east-2',
        AWS_DEFAULT_REGION: 'eu-central-1',
        AWS_ACCESS_KEY_ID: 'AKIAUNITTEST00000002',
        AWS_SECRET_ACCESS_KEY: 'cw-secret-b72c',
      }).options,
    ).toEqual({
      region: 'us-east-2',
      aws: { accessKeyId: 'AKIAUNITTEST00000002', secretAccessKey: 'cw-secret-b72c' },
    });
    expect(
      resolveProvider(spec({ region: 'eu-west-1' }), undefined, {
        AWS_DEFAULT_REGION: 'eu-central-1',
        AWS_ACCESS_KEY_ID: 'AKIAUNITTEST00000002',
        AWS_SECRET_ACCESS_KEY: 'cw-secret-b72c',
        AWS_SESSION_TOKEN: 'cw-token-c63d',
      }).options,
    ).toMatchObject({ region: 'eu-west-1', aws: { sessionToken: 'cw-token-c63d' } });
  });

  it.each([
    [{}, {}, 'provider.region: required with type cloudwatch (or set AWS_REGION or AWS_DEFAULT_REGION)'],
    [
      {},
      { AWS_REGION: 'mars' },
      'provider.region: expected an AWS region like eu-west-1, got "mars" from AWS_REGION',
    ],
    [
      { region: 'eu-west-1' },
      { AWS_SECRET_ACCESS_KEY: 's3cr3t-value' },
      'provider: type cloudwatch needs an AWS access key: AWS_ACCESS_KEY_ID is not set or empty (or name the variables with provider.accessKeyIdEnv and secretAccessKeyEnv)',
    ],
    [
      { region: 'eu-west-1', accessKeyIdEnv: 'CW_ID', secretAccessKeyEnv: 'CW_SECRET' },
      { CW_ID: 'AKIAUNITTEST00000003', CW_SECRET: '' },
      'provider.secretAccessKeyEnv: CW_SECRET is not set or empty',
    ],
    [
      {
        region: 'eu-west-1',
        accessKeyIdEnv: 'CW_ID',
        secretAccessKeyEnv: 'CW_SECRET',
        sessionTokenEnv: 'CW_T',
      },
      { CW_ID: 'AKIAUNITTEST00000003', CW_SECRET: 'x-secret' },
      'provider.sessionTokenEnv: CW_T is not set or empty',
    ],
  ])('refuses a missing region or key at pre-flight: %j %j', (provider, env, message) => {
    const error = errorOf(() => resolveProvider(spec(provider), undefined, env));
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toBe(`--analysis: ${message}`);
  });

  it('creates a CloudWatch provider by name', () => {
    const provider = createProvider('cloudwatch', {
      region: 'eu-west-1',
      aws: { accessKeyId: 'AKIAUNITTEST00000004', secretAccessKey: 'x' },
    });
    expect(provider).toBeInstanceOf(CloudWatchProvider);
    expect((provider as CloudWatchProvider).address).toBe('https://monitoring.eu-west-1.amazonaws.com');
  });
});

describe("a CloudWatch answer's value", () => {
  const query = parseCloudWatchQuery('Gantry/Shop ErrorRatio Average 60s');

  it('is the newest finite datapoint, whichever order the answer lists them in', () => {
    const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
    expect(
      newestValue([{ Timestamps: [at(50), at(10), at(30)], Values: [0.2, 0.9, 0.5] }], query, 300_000),
    ).toBe(0.2);
    expect(newestValue([{ Timestamps: [at(10), at(50)], Values: [0.9, Number.NaN] }], query, 300_000)).toBe(
      0.9,
    );
  });

  it('is no data (inconclusive, never a pass) without a datapoint', () => {
    const error = errorOf(() =>
      newestValue([{ Timestamps: [], Values: [], StatusCode: 'Complete' }], query, 120_000),
    );
    expect(error).toBeInstanceOf(NoDataError);
    expect(error.message).toBe('no data: no datapoint of Gantry/Shop ErrorRatio Average in the last 2m');
    expect(errorOf(() => newestValue([], query, 120_000))).toBeInstanceOf(NoDataError);
  });

  it('is an infrastructure error when CloudWatch says the result is forbidden or failed', () => {
    const error = errorOf(() =>
      newestValue(
        [{ StatusCode: 'Forbidden', Messages: [{ Code: 'Forbidden', Value: 'no access to the account' }] }],
        query,
        300_000,
      ),
    );
    expect(error).toBeInstanceOf(InfraError);
    expect(error.message).toBe('cloudwatch answered Forbidden (Forbidden: no access to the account)');
  });
});

describe('a failed CloudWatch request', () => {
  const context = {
    address: 'https://monitoring.eu-west-1.amazonaws.com',
    metricName: 'error-ratio',
    cancelled: false,
    timedOut: false,
    timeoutMs: 10_000,
  };
  const awsError = (name: string, status: number, message = 'the reason') =>
    Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });

  it('with refused credentials is an infrastructure error saying so (exit 3)', () => {
    for (const error of [
      awsError('InvalidClientTokenId', 403),
      awsError('SignatureDoesNotMatch', 403),
      awsError('ExpiredToken', 400),
      // An error body the SDK cannot read (an emulator's XML page): only the status is known.
      Object.assign(new SyntaxError('Unexpected token <'), { $metadata: { httpStatusCode: 403 } }),
    ]) {
      const failure = describeFailure(error, context);
      expect(failure).toBeInstanceOf(InfraError);
      expect(failure.message).toMatch(
        /^cloudwatch at https:\/\/monitoring\.eu-west-1\.amazonaws\.com refused the request \((403|400)( \w+)?\): check the AWS credentials and that they allow cloudwatch:GetMetricData$/,
      );
    }
  });

  it('refusing the query is bad input naming the metric (exit 2)', () => {
    const failure = describeFailure(
      awsError('InvalidParameterValue', 400, 'The value p0 for Stat is not valid.'),
      context,
    );
    expect(failure).toBeInstanceOf(InputError);
    expect(failure.message).toBe(
      '--analysis: metric "error-ratio": CloudWatch refused the query: InvalidParameterValue: The value p0 for Stat is not valid.',
    );
  });

  it('throttled, failing, unreachable, timed out or cancelled is an infrastructure error', () => {
    expect(describeFailure(awsError('ThrottlingException', 400, 'Rate exceeded'), context).message).toBe(
      'cloudwatch at https://monitoring.eu-west-1.amazonaws.com answered 400 (ThrottlingException: Rate exceeded)',
    );
    expect(describeFailure(awsError('InternalServiceError', 500), context)).toBeInstanceOf(InfraError);
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    expect(describeFailure(refused, context).message).toBe(
      'cloudwatch at https://monitoring.eu-west-1.amazonaws.com is unreachable (ECONNREFUSED)',
    );
    expect(describeFailure(new Error('aborted'), { ...context, timedOut: true }).message).toBe(
      'cloudwatch at https://monitoring.eu-west-1.amazonaws.com did not answer within 10s',
    );
    expect(describeFailure(new Error('aborted'), { ...context, cancelled: true }).message).toBe(
      'cloudwatch query cancelled',
    );
  });
});

describe('the CloudWatch provider, without a server', () => {
  const provider = new CloudWatchProvider({
    region: 'eu-west-1',
    // Nothing listens on port 1: the request itself fails, through the real SDK.
    url: 'http://127.0.0.1:1',
    accessKeyId: 'AKIAUNITTEST00000005',
    secretAccessKey: 'unit-secret',
    windowMs: 120_000,
  });

  it('refuses a malformed query, or a period longer than the window, before any request', async () => {
    await expect(provider.validate('Gantry/Shop ErrorRatio', 'ratio')).rejects.toThrow(
      /^--analysis: metric "ratio": CloudWatch query does not parse: expected a statistic/,
    );
    await expect(provider.validate('Gantry/Shop ErrorRatio Average 5m', 'ratio')).rejects.toThrow(
      '--analysis: metric "ratio": period 300s is longer than provider.window 2m: no period would fit in it',
    );
  });

  it('an endpoint that does not answer is an infrastructure error, and not online', async () => {
    await expect(provider.query('Gantry/Shop ErrorRatio Average 60s')).rejects.toThrow(
      /^cloudwatch at http:\/\/127\.0\.0\.1:1 is unreachable \(ECONNREFUSED\)$/,
    );
    expect(await provider.isOnline()).toBe(false);
  });
});
