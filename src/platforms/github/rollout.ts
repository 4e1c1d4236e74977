/**
 * The rollout stages of the actions — deploy, promote, abort — and the post step that aborts a rollout a
 * cancelled job left running. What the post step needs from the main step travels in `core.saveState`.
 */
import { readFile } from 'node:fs/promises';
import * as core from '@actions/core';
import { deployCommand, runControlCommand } from '../../commands/deploy.js';
import { resolveConfig } from '../../config/load.js';
import { commandRollout, type RolloutStatus, rolloutStatus } from '../../deploy/control.js';
import { Kube } from '../../deploy/kube.js';
import type { RolloutReport } from '../../deploy/types.js';
import { verdictLine } from '../../report/index.js';
import { ExitCode, GantryError } from '../../util/errors.js';
import {
  type ActionSpec,
  appendSummary,
  commandOptions,
  failureExitCode,
  type Inputs,
  inputLabel,
  setOutputs,
  stage,
  stepDirectory,
  toRawInputs,
} from './adapter.js';
import { GitHubVisibility, visibilitySettings } from './deployments.js';

/** What the post step needs to find the rollout this job started. Cleared when the rollout has finished. */
interface PostStepRollout {
  namespace: string;
  name: string;
  runId: string;
  kubeconfig?: string;
  timeoutMs: number;
}

const ROLLOUT_STATE = 'rollout';
/** The GitHub Deployment of the rollout in progress (`{id, environment}`), for the post step. */
const DEPLOYMENT_STATE = 'githubDeployment';

/**
 * Rolls out (`images` plus, in the pipeline, the image it built). A cancelled job (SIGINT, then SIGTERM from
 * the runner) aborts the rollout as `gantry deploy` does; if the runner kills the step before the rollback
 * ends, the post step finishes it.
 */
export function deployStage(spec: ActionSpec, inputs: Inputs, images: string[] = []): Promise<RolloutReport> {
  return stage(spec, 'deploy', async () => {
    const raw = toRawInputs('deploy', spec, inputs);
    raw.image = [...((raw.image as string[] | undefined) ?? []), ...images];
    const config = resolveConfig({
      command: 'deploy',
      raw,
      configPath: inputs.config,
      spell: (flag) => inputLabel(spec, 'deploy', flag),
    });
    const d = config.deploy;
    // The GitHub Deployment and the pull-request comment: inputs checked before the cluster changes.
    const visibility = await GitHubVisibility.create(visibilitySettings(inputs));
    // Recorded once pre-flight passed, before the cluster changes: the post step aborts this rollout if the
    // runner kills the step. The GitHub Deployment is created then, while the rollout goes on.
    const onPlanned = (rollout: { namespace: string; name: string; runId: string; image: string }) => {
      const state: PostStepRollout = {
        namespace: rollout.namespace,
        name: rollout.name,
        runId: rollout.runId,
        timeoutMs: d.timeout,
      };
      if (d.kubeconfig) state.kubeconfig = d.kubeconfig;
      core.saveState(ROLLOUT_STATE, JSON.stringify(state));
      visibility?.start(rollout, (deployment) =>
        core.saveState(DEPLOYMENT_STATE, JSON.stringify(deployment)),
      );
    };

    // Reports are always written: the summary shows the Markdown one.
    d.report ??= stepDirectory();
    let outcome: Awaited<ReturnType<typeof deployCommand>>;
    try {
      outcome = await deployCommand(config, { onPlanned });
    } catch (error) {
      await visibility?.finish({ exitCode: failureExitCode(error), error });
      core.saveState(DEPLOYMENT_STATE, '');
      throw error;
    } finally {
      // Finished, one way or another: only a step killed before this line leaves work for the post step.
      core.saveState(ROLLOUT_STATE, '');
    }
    await visibility?.finish({ report: outcome.result, exitCode: outcome.forceExitCode ?? outcome.exitCode });
    core.saveState(DEPLOYMENT_STATE, '');

    const report = outcome.result;
    const exitCode = outcome.forceExitCode as 0 | 1 | 3 | 4;
    const paths = report.reports!;
    setOutputs({
      verdict: report.verdict,
      reason: report.reason,
      revision: report.revision ?? '',
      'previous-image': report.previousImage ?? '',
      report: paths.markdown,
      'report-json': paths.json,
    });
    await appendSummary(`### Rollout\n\n${await readFile(paths.markdown, 'utf8')}`);
    if (exitCode !== 0) throw new GantryError(rolloutFailure(report, exitCode), exitCode);
    return report;
  });
}

function rolloutFailure(report: RolloutReport, exitCode: 1 | 3 | 4): string {
  if (exitCode === ExitCode.rollbackFailed) {
    return `ROLLBACK FAILED, page someone: ${report.namespace}/${report.name}: ${report.reason}`;
  }
  return exitCode === ExitCode.gate ? verdictLine(report) : `rollout failed: ${report.reason}`;
}

/** Promote or abort the rollout in progress (the run holding the lease acts on it). */
export function controlStage(
  spec: ActionSpec,
  inputs: Inputs,
  command: 'promote' | 'abort',
): Promise<RolloutStatus> {
  return stage(spec, command, async () => {
    const outcome = await runControlCommand(command)(
      toRawInputs(command, spec, inputs),
      commandOptions(inputs),
    );
    const status = outcome.result;
    setOutputs({ phase: status.phase, status: JSON.stringify(status) });
    // A promote returns before the rollout ends only when it released a gate: the rollout goes on.
    const heading = command === 'abort' ? 'Aborted' : status.phase === 'idle' ? 'Promoted' : 'Gate released';
    await appendSummary(`### ${heading}: ${outcome.summary}\n`);
    return status;
  });
}

/**
 * The post step of deploy and the pipeline: when the main step ended with its rollout still running (the job
 * was cancelled and the runner killed the step before the rollback finished), abort it. The dead run's lease
 * goes stale within its duration; `gantry abort` then rolls the orphan back.
 */
export async function rolloutPost(inputs: Inputs): Promise<void> {
  const saved = core.getState(ROLLOUT_STATE);
  if (!saved) return;
  const state = JSON.parse(saved) as PostStepRollout;
  const target = `${state.namespace}/${state.name}`;
  const kube = Kube.load(state.kubeconfig);
  const status = await rolloutStatus(kube, state.namespace, state.name);
  if (status.runId !== state.runId) {
    core.info(`the rollout of ${target} from this job is not running any more (${status.phase})`);
    return;
  }
  core.warning(`the job stopped during the rollout of ${target} (run ${state.runId}): aborting it`);
  const after = await commandRollout(kube, state.namespace, state.name, 'abort', state.timeoutMs);
  const stable = after.stable?.image ?? 'none';
  core.info(`aborted: ${target} is ${after.phase}, stable on ${stable}`);
  const deployment = core.getState(DEPLOYMENT_STATE);
  if (deployment) {
    const visibility = await GitHubVisibility.create(visibilitySettings(inputs));
    await visibility?.abandoned(
      JSON.parse(deployment) as { id: number; environment: string },
      `The job stopped during the rollout of ${target}; the post step rolled it back (stable: ${stable})`,
    );
  }
  await appendSummary(
    `### Rollout aborted by the post step\n\nThe job stopped during the rollout of \`${target}\` (run \`${state.runId}\`); the new version was removed. Stable: \`${stable}\`.\n`,
  );
}
