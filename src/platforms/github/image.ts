/**
 * The image stages of the actions — build, scan, push: inputs → the use cases (src/commands) → outputs,
 * job summary and annotations. Nothing here loads the Kubernetes client, so these bundles stay small.
 */
import { join } from 'node:path';
import type { BuildResult } from '../../build/index.js';
import { runBuildCommand } from '../../commands/build.js';
import { runPushCommand } from '../../commands/push.js';
import { scanCommand } from '../../commands/scan.js';
import { type RawInputs, resolveConfig } from '../../config/load.js';
import type { PushResult } from '../../registry/push.js';
import { markdownCode } from '../../report/format.js';
import { renderScanMarkdown } from '../../scan/report/markdown.js';
import type { ScanResult } from '../../scan/types.js';
import { ExitCode, GantryError } from '../../util/errors.js';
import {
  type ActionSpec,
  annotateFindings,
  appendSummary,
  buildMarkdown,
  commandOptions,
  type Inputs,
  reportInputs,
  scanFailure,
  secretInputs,
  setOutputs,
  severityThreshold,
  stage,
  stepDirectory,
  tagInputs,
  toRawInputs,
  useCredentials,
} from './adapter.js';

/** Builds the image; `push` overrides the input (the pipeline pushes only after the scan). */
export function buildStage(
  spec: ActionSpec,
  inputs: Inputs,
  options: { push?: boolean } = {},
): Promise<BuildResult> {
  return stage(spec, 'build', async () => {
    useCredentials(inputs);
    const raw: RawInputs = { ...toRawInputs('build', spec, inputs), ...tagInputs(inputs.tags, inputs.image) };
    const secrets = secretInputs(inputs);
    if (secrets.length > 0) raw.secret = secrets;
    if (options.push !== undefined) raw.push = options.push;
    const { result: build } = await runBuildCommand(raw, commandOptions(inputs));
    setOutputs({
      image: build.image,
      tags: build.refs.join('\n'),
      digest: build.digest,
      imageid: build.imageId,
      ref: build.digest ? `${build.image}@${build.digest}` : build.refs[0],
      metadata: JSON.stringify(build),
      provenance: build.provenance,
    });
    await appendSummary(buildMarkdown(build));
    return build;
  });
}

/**
 * Scans the image (`image-ref`, or the one the pipeline just built), always writing SARIF so a later step can
 * upload it to code scanning. A failed gate fails the step after the outputs, annotations and summary.
 */
export function scanStage(spec: ActionSpec, inputs: Inputs, image?: string): Promise<ScanResult> {
  return stage(spec, 'scan', async () => {
    const raw: RawInputs = { ...reportInputs(inputs), ...toRawInputs('scan', spec, inputs) };
    if (image) raw.image = image;
    if (inputs.severity) raw['severity-threshold'] = severityThreshold(inputs.severity);
    const config = resolveConfig({ command: 'scan', raw, configPath: inputs.config });
    config.scan.sarif ??= join(stepDirectory(), 'scan.sarif');
    const { result: scan } = await scanCommand(config);
    setOutputs({
      passed: scan.passed,
      ...scan.counts,
      findings: scan.findings.length,
      sarif: scan.reports.sarif,
      'gitlab-report': scan.reports.gitlab,
      junit: scan.reports.junit,
      markdown: scan.reports.markdown,
    });
    annotateFindings(scan, inputs.file ?? join(inputs.context ?? '.', 'Dockerfile'));
    await appendSummary(renderScanMarkdown(scan));
    if (!scan.passed) throw new GantryError(scanFailure(scan), ExitCode.gate);
    return scan;
  });
}

/** Pushes a local image, or copies a registry image by digest (`image` → `to`, or what the pipeline built). */
export function pushStage(
  spec: ActionSpec,
  inputs: Inputs,
  source?: { image: string; to: string[] },
): Promise<PushResult> {
  return stage(spec, 'push', async () => {
    useCredentials(inputs);
    const raw: RawInputs = { ...toRawInputs('push', spec, inputs), ...source };
    const { result: pushed } = await runPushCommand(raw, commandOptions(inputs));
    await appendSummary(
      [
        `### Image pushed: ${markdownCode(pushed.digest)}`,
        '',
        ...pushed.refs.map((ref) => `- ${markdownCode(ref)}`),
        '',
      ].join('\n'),
    );
    return pushed;
  });
}
