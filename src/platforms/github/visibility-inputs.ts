/**
 * The inputs of the GitHub Deployment and the pull-request comment (./deployments.ts), checked on their own so
 * the root action can refuse a bad value before it builds anything, without loading the API client.
 */
import { InputError } from '../../util/errors.js';
import { booleanInput, type Inputs } from './adapter.js';

/** What the step's inputs ask for. */
export interface VisibilitySettings {
  /** `github-token` (the action's default is the job's `github.token`); nothing is posted without one. */
  token?: string;
  /** `github-deployment`: create a GitHub Deployment with statuses. Default true. */
  deployment: boolean;
  /** `pr-comment`: on a pull request, comment the rollout summary. Default true. */
  comment: boolean;
  /** `environment`; default the rollout's namespace. */
  environment?: string;
  /** `environment-url`: the URL the deployment statuses link to. */
  environmentUrl?: string;
}

/**
 * Reads and checks the inputs, before the rollout starts: a bad value fails the step as bad input (exit code
 * 2) with nothing changed in the cluster.
 */
export function visibilitySettings(inputs: Inputs): VisibilitySettings {
  const settings: VisibilitySettings = {
    deployment: booleanInput(inputs, 'github-deployment', true),
    comment: booleanInput(inputs, 'pr-comment', true),
  };
  const token = inputs['github-token'];
  if (token) settings.token = token;
  const environment = inputs.environment;
  if (environment !== undefined) {
    if (environment.length > 255 || /[\r\n]/.test(environment)) {
      throw new InputError('input "environment"', 'expected one line of at most 255 characters');
    }
    settings.environment = environment;
  }
  const url = inputs['environment-url'];
  if (url !== undefined) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      parsed = undefined;
    }
    if (!parsed || (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')) {
      throw new InputError('input "environment-url"', `expected an http(s) URL, got ${JSON.stringify(url)}`);
    }
    settings.environmentUrl = url;
  }
  return settings;
}
