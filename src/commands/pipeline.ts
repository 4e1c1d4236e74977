/**
 * The rules of the whole pipeline — build → scan → push → deploy — that no single command sees. The GitHub
 * root action checks them before it builds; the GitLab pipeline component is generated so that they hold by
 * construction (its build always pushes, and there is no input to turn that off); the Jenkins library's
 * gantryPipeline checks its map with the same words (jenkins/vars/gantryPipeline.groovy).
 */
import { InputError } from '../util/errors.js';

export interface PipelinePlan {
  /** Whether a rollout follows (there are manifests). */
  deploy: boolean;
  /** Whether the scanned image is pushed. */
  push: boolean;
}

/** Rollouts pin images by digest, and only a push gives a digest the cluster can pull. */
export const DEPLOY_NEEDS_PUSH = 'must be true with "manifests": images are deployed by digest';

/**
 * Fails, before anything is built, on a pipeline that cannot run to its end. `input` names the push setting
 * as the front end spells it.
 */
export function checkPipeline(plan: PipelinePlan, input: string): void {
  if (plan.deploy && !plan.push) throw new InputError(input, DEPLOY_NEEDS_PUSH);
}
