import { type RawInputs, resolveConfig } from '../config/load.js';
import type { GantryConfig } from '../config/schema.js';
import { commandRollout, type RolloutStatus, rolloutStatus } from '../deploy/control.js';
import { type DeployOptions, deploy } from '../deploy/index.js';
import { Kube } from '../deploy/kube.js';
import { RollbackReason } from '../deploy/strategies/types.js';
import type { RolloutReport } from '../deploy/types.js';
import { watchRollout } from '../deploy/watch.js';
import { formatLine, type WatchLine } from '../deploy/watch-lines.js';
import { writeReports } from '../report/index.js';
import { InputError } from '../util/errors.js';
import { log } from '../util/log.js';
import type { CommandOptions, CommandOutcome } from './outcome.js';

/** The deploy result: the rollout report, the report files written, and the API requests it took. */
export type DeployOutcome = RolloutReport & {
  reports: Awaited<ReturnType<typeof writeReports>> | undefined;
  apiRequests: Awaited<ReturnType<typeof deploy>>['apiRequests'];
};

/**
 * `gantry deploy`. SIGTERM and SIGINT (a cancelled CI job) abort the rollout: the new version is taken out of
 * traffic and removed, the lease released, and the exit code is not 0.
 */
export function runDeployCommand(
  raw: RawInputs,
  options: CommandOptions,
): Promise<CommandOutcome<DeployOutcome>> {
  return deployCommand(resolveConfig({ command: 'deploy', raw, configPath: options.configPath }));
}

/** Rolls out a resolved config, aborting on SIGTERM/SIGINT; the reports go to `deploy.report` when set. */
export function deployCommand(
  config: GantryConfig,
  options: Pick<DeployOptions, 'onPlanned'> = {},
): Promise<CommandOutcome<DeployOutcome>> {
  return abortOnCancel(async (signal) => {
    const { report, exitCode, apiRequests } = await deploy(config, { ...options, signal });
    const reports = config.deploy.report
      ? await writeReports(report, { dir: config.deploy.report, basename: 'rollout' })
      : undefined;
    const summary = [
      `${report.verdict.toUpperCase()}: ${report.namespace}/${report.name} — ${report.reason}`,
      `  image: ${report.image}${report.previousImage ? ` (previous: ${report.previousImage})` : ''}`,
      ...(report.config ?? []).map(
        (c) => `  ${c.kind} ${c.name}: ${c.version}${c.previous ? ` (previous: ${c.previous})` : ''}`,
      ),
      ...(reports ? [`  report: ${reports.markdown}`] : []),
    ].join('\n');
    return {
      exitCode: exitCode === 0 ? 0 : (exitCode as 0 | 1),
      result: { ...report, reports, apiRequests },
      summary,
      forceExitCode: exitCode,
    };
  });
}

/**
 * Runs a rollout with a signal that SIGTERM and SIGINT (a cancelled CI job) fire: the rollout is aborted, the
 * new version taken out of traffic and removed, the lease released, and the exit code is not 0. Every front
 * end that rolls out in its own process goes through this (the CLI, the GitHub deploy and pipeline steps).
 */
export async function abortOnCancel<T>(rollout: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    log.warn(`${signal} received: aborting the rollout (the new version will be removed)`);
    controller.abort(new RollbackReason(`cancelled by ${signal}`));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    return await rollout(controller.signal);
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}

function target(raw: RawInputs, options: CommandOptions, command: 'status' | 'promote' | 'abort') {
  const config = resolveConfig({ command, raw, configPath: options.configPath });
  if (!config.deploy.name) throw new InputError('--name', 'required: the Deployment whose rollout to act on');
  return {
    config,
    kube: Kube.load(config.deploy.kubeconfig),
    name: config.deploy.name,
    namespace: config.deploy.namespace,
  };
}

export async function runStatusCommand(
  raw: RawInputs,
  options: CommandOptions,
): Promise<CommandOutcome<RolloutStatus | WatchLine>> {
  const { config, kube, name, namespace } = target(raw, options, 'status');
  if (config.status.watch) return watchStatus(config, kube, name, namespace, options);
  const status = await rolloutStatus(kube, namespace, name);
  const summary = [
    `${namespace}/${name}: ${phaseLine(status)}`,
    ...gateLines(status),
    status.stable
      ? `  stable: ${status.stable.image} ${status.stable.ready}/${status.stable.replicas} ready`
      : '  stable: none',
    ...(status.canary
      ? [
          `  ${status.canary.name}: ${status.canary.image} ${status.canary.ready}/${status.canary.replicas} ready`,
        ]
      : []),
  ].join('\n');
  return { exitCode: 0, result: status, summary };
}

/**
 * `gantry status --watch`: one line per change of the rollout, handed to the front end as it happens
 * (`options.onWatchLine`; the text form is the human line), until the rollout ends. The outcome is the last
 * line, already written (`streamed`), with the rollout's exit code.
 */
async function watchStatus(
  config: GantryConfig,
  kube: Kube,
  name: string,
  namespace: string,
  options: CommandOptions,
): Promise<CommandOutcome<WatchLine>> {
  const { exitCode, last } = await watchRollout(kube, namespace, name, {
    timeoutMs: config.deploy.timeout,
    waitStartMs: config.status.waitStart,
    onLine: (line) => options.onWatchLine?.(line, formatLine(line)),
  });
  return {
    exitCode: exitCode === 0 ? 0 : 1,
    forceExitCode: exitCode,
    result: last,
    summary: formatLine(last),
    streamed: true,
  };
}

/** `progressing (run 123-ab, step 2, 25%)`, `waiting for promote (run …)`, `idle`. */
function phaseLine(status: RolloutStatus): string {
  const phase = status.waitingFor ? `waiting for ${status.waitingFor}` : status.phase;
  return `${phase}${status.runId ? ` (run ${status.runId}, step ${status.step}, ${status.weight}%)` : ''}`;
}

/** What a person can do about a rollout waiting at a gate, and what happens if nobody does. */
function gateLines(status: RolloutStatus): string[] {
  if (!status.gate) return [];
  const target = `--name ${status.name} --namespace ${status.namespace}`;
  const then = status.gate.onTimeout === 'promote' ? 'it goes on as if promoted' : 'it rolls back';
  return [
    `  waiting since ${status.gate.since}; without a decision by ${status.gate.timeoutAt} ${then}`,
    `  continue: gantry promote ${target}`,
    `  roll back: gantry abort ${target}`,
  ];
}

export function runControlCommand(command: 'promote' | 'abort') {
  return async (raw: RawInputs, options: CommandOptions): Promise<CommandOutcome<RolloutStatus>> => {
    const { config, kube, name, namespace } = target(raw, options, command);
    const status = await commandRollout(kube, namespace, name, command, config.deploy.timeout);
    return {
      exitCode: 0,
      result: status,
      summary: `${command} done: ${namespace}/${name} is ${phaseLine(status)}`,
    };
  };
}
