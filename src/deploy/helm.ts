import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import yaml from 'js-yaml';
import { InfraError, InputError, oneLine } from '../util/errors.js';
import { run } from '../util/exec.js';
import { redact } from '../util/secrets.js';

/**
 * Helm charts for `gantry deploy --chart`: the chart is rendered with `helm template` (never `helm install` or
 * `upgrade`: Helm does not talk to the cluster and keeps no release), and the rendered objects then go through
 * the same pipeline as --manifests (images by digest, dry run, server-side apply, the strategy).
 *
 * Helm is `$GANTRY_HELM` when set, else `helm` on PATH (the sandbox builds v4.3.2; the flags used exist in v3 too).
 */
export interface ChartSettings {
  /** A chart directory, a packaged `.tgz`, `repo/name` (a repository added with `helm repo add`) or `oci://…`. */
  chart: string;
  values: readonly string[];
  set: readonly string[];
  release?: string;
  /** --name: the Deployment to roll out, the release name's first default. */
  name?: string;
  namespace: string;
}

export interface RenderedChart {
  /** What `helm template` printed: the chart's objects as YAML documents. */
  text: string;
  release: string;
}

/** Helm's rule for release names (at most 53 characters besides). */
export const HELM_RELEASE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** The helm to run: `$GANTRY_HELM`, else `helm` on PATH. */
export function helmBinary(env: NodeJS.ProcessEnv = process.env): string {
  return env.GANTRY_HELM?.trim() || 'helm';
}

/**
 * The arguments of `helm template`. Every flag takes its value after `=` and `--` ends the flags, so no chart
 * reference, values file or `--set` item can be read as another flag. Hooks (`helm.sh/hook`, tests included)
 * are left out: they belong to Helm's release lifecycle, which Gantry does not run.
 */
export function helmTemplateArgs(settings: ChartSettings, release: string): string[] {
  return [
    'template',
    `--namespace=${settings.namespace}`,
    '--no-hooks',
    ...settings.values.map((file) => `--values=${file}`),
    ...settings.set.map((item) => `--set=${item}`),
    '--',
    release,
    settings.chart,
  ];
}

/**
 * The release name: --release, else --name, else the chart's name (`name` in the Chart.yaml of a chart
 * directory; the last path segment of a reference, without its version, tag or digest).
 */
export function releaseName(settings: ChartSettings, readChartName = chartNameInDirectory): string {
  if (settings.release) return settings.release;
  if (settings.name) return settings.name;
  const name = readChartName(settings.chart) ?? chartNameOfReference(settings.chart);
  if (!HELM_RELEASE_NAME.test(name) || name.length > 53) {
    throw new InputError(
      '--release',
      `the chart's name "${name}" is not a valid release name (lower-case letters, digits, "-", "."; at most 53 characters); name the release`,
    );
  }
  return name;
}

/** `name` from `<dir>/Chart.yaml`, or undefined when `chart` is not a chart directory. */
export function chartNameInDirectory(chart: string): string | undefined {
  if (!existsSync(chart) || !statSync(chart).isDirectory()) return undefined;
  const file = join(chart, 'Chart.yaml');
  if (!existsSync(file)) throw new InputError('--chart', `"${chart}" has no Chart.yaml: not a Helm chart`);
  let data: unknown;
  try {
    data = yaml.load(readFileSync(file, 'utf8'), { schema: yaml.JSON_SCHEMA });
  } catch (error) {
    const reason = (error as yaml.YAMLException).reason ?? (error as Error).message;
    throw new InputError('--chart', `${file} is not valid YAML: ${reason}`);
  }
  const name = (data as { name?: unknown } | null)?.name;
  if (typeof name !== 'string' || name === '') throw new InputError('--chart', `${file} has no name`);
  return name;
}

/** `oci://r/charts/web:1.2.0` → `web`; `charts/web-1.2.0.tgz` → `web`; `repo/web` → `web`. */
export function chartNameOfReference(chart: string): string {
  let name = basename(chart.replace(/\/+$/, ''));
  name = name.replace(/@sha256:[a-f0-9]+$/, '');
  if (/\.tgz$/.test(name)) return name.replace(/\.tgz$/, '').replace(/-v?\d+\.\d+\.\d+[^/]*$/, '');
  return name.replace(/:[^:]+$/, '');
}

/** A chart repository or registry that did not answer: not the input's fault (exit 3, not 2). */
const NETWORK_FAILURE =
  /dial tcp|connection refused|connection reset|no such host|i\/o timeout|TLS handshake timeout|context deadline exceeded|\b50[234] /i;

/**
 * What went wrong, from helm's stderr: its `Error: …` line (the lines after it are advice such as "Use --debug
 * flag"), folded to one line and with registered secrets masked; and which input it is about (`network`: a
 * repository or registry that did not answer).
 */
export function helmFailure(
  stderr: string,
  settings: Pick<ChartSettings, 'chart' | 'values'>,
): { input: '--chart' | '--values' | '--set' | 'network'; reason: string } {
  const lines = stderr.split(/\r?\n/).map((l) => l.trim());
  const errorLine = lines.find((l) => l.startsWith('Error: '));
  const text = errorLine ? errorLine.slice('Error: '.length) : (lines.filter(Boolean).at(-1) ?? 'no output');
  const reason = redact(oneLine(text));
  if (NETWORK_FAILURE.test(reason)) return { input: 'network', reason };
  if (/--set\b/.test(reason)) return { input: '--set', reason };
  if (settings.values.some((file) => reason.includes(file))) return { input: '--values', reason };
  return { input: '--chart', reason };
}

/**
 * Renders the chart with `helm template`. A values file that does not exist, a chart helm cannot load, bad
 * `--set` syntax or a template error is bad input (one line, with Helm's reason); nothing reaches the cluster.
 */
export async function renderChart(settings: ChartSettings): Promise<RenderedChart> {
  for (const file of settings.values) {
    if (!/^[a-z]+:\/\//i.test(file) && !existsSync(file)) {
      throw new InputError('--values', `no such file "${file}"`);
    }
  }
  if (
    !/^[a-z]+:\/\//i.test(settings.chart) &&
    (settings.chart.startsWith('.') || settings.chart.startsWith('/'))
  ) {
    if (!existsSync(settings.chart))
      throw new InputError('--chart', `no such chart directory or file "${settings.chart}"`);
  }
  const release = releaseName(settings);
  const helm = helmBinary();
  const result = await run(helm, helmTemplateArgs(settings, release), {
    allowFailure: true,
    // A chart from a repository or registry is downloaded first; never wait on one for ever.
    timeoutMs: 300_000,
  }).catch((error: unknown) => {
    if (/is not installed or not on PATH/.test((error as Error).message)) {
      throw new InfraError(
        `a chart needs Helm: ${helm} is not installed or not on PATH (install Helm, or set GANTRY_HELM to its path)`,
      );
    }
    throw error;
  });
  if (result.exitCode !== 0) {
    const { input, reason } = helmFailure(result.stderr || result.stdout, settings);
    if (input === 'network')
      throw new InfraError(`helm template could not fetch "${settings.chart}": ${reason}`);
    throw new InputError(input, `helm template could not render "${settings.chart}": ${reason}`);
  }
  return { text: result.stdout, release };
}
