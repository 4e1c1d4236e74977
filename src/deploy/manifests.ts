import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import yaml from 'js-yaml';
import type { GantryConfig } from '../config/schema.js';
import { parseImageReference } from '../context/reference.js';
import { InputError } from '../util/errors.js';
import { run } from '../util/exec.js';
import { renderChart } from './helm.js';

export interface Manifest extends KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: Record<string, unknown>;
  /** Where the object came from, for error messages (not sent to the cluster). */
  source?: string;
}

const MANIFEST_FILE = /\.(ya?ml|json)$/i;

/**
 * Loads manifests from files, directories (every .yaml/.yml/.json below, sorted), a kustomization directory
 * (rendered with `kustomize build`, or `kubectl kustomize`), or `-` (stdin: e.g. `kustomize build | gantry
 * deploy --manifests -`). Every document must be a Kubernetes object; anything else is bad input.
 */
export async function loadManifests(paths: string[], stdin?: () => string): Promise<Manifest[]> {
  if (paths.length === 0) throw new InputError('--manifests', 'required: at least one file or directory');
  const documents: { text: string; source: string }[] = [];
  for (const path of paths) {
    if (path === '-') {
      documents.push({ text: stdin ? stdin() : readFileSync(0, 'utf8'), source: 'stdin' });
      continue;
    }
    if (!existsSync(path)) throw new InputError('--manifests', `no such file or directory "${path}"`);
    if (statSync(path).isDirectory()) {
      const kustomization = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'].find((f) =>
        existsSync(join(path, f)),
      );
      if (kustomization) {
        documents.push({ text: await kustomizeBuild(path), source: `kustomize build ${path}` });
        continue;
      }
      const files = (readdirSync(path, { recursive: true }) as string[])
        .filter((f) => MANIFEST_FILE.test(f))
        .map((f) => join(path, f))
        .filter((f) => statSync(f).isFile())
        .sort();
      if (files.length === 0)
        throw new InputError('--manifests', `no .yaml, .yml or .json files in "${path}"`);
      for (const file of files)
        documents.push({ text: readFileSync(file, 'utf8'), source: relative(process.cwd(), file) });
    } else {
      documents.push({ text: readFileSync(path, 'utf8'), source: path });
    }
  }
  return parseManifests(documents, '--manifests');
}

/**
 * What `gantry deploy` rolls out: the objects of --manifests, or of --chart rendered with `helm template`
 * (the two are exclusive; the schema refuses both at once). Errors name the input they came from.
 */
export async function loadDeployManifests(
  settings: Pick<
    GantryConfig['deploy'],
    'manifests' | 'chart' | 'values' | 'set' | 'release' | 'name' | 'namespace'
  >,
  stdin?: () => string,
): Promise<Manifest[]> {
  if (settings.chart === undefined) return loadManifests(settings.manifests, stdin);
  const { text } = await renderChart({ ...settings, chart: settings.chart });
  return parseManifests(splitRendered(text, settings.chart), '--chart');
}

/**
 * `helm template` output, one document per template file, each named after its `# Source: chart/templates/…`
 * comment so that an error says which template an object came from.
 */
export function splitRendered(text: string, chart: string): { text: string; source: string }[] {
  const documents: { text: string; source: string }[] = [];
  let source = chart;
  for (const part of text.split(/^---[ \t]*$/m)) {
    const named = /^# Source: (.+)$/m.exec(part);
    if (named) source = named[1]!.trim();
    if (part.trim() !== '') documents.push({ text: part, source });
  }
  return documents;
}

/** Every Kubernetes object in the documents; anything else is bad input of `input`. */
export function parseManifests(documents: { text: string; source: string }[], input: string): Manifest[] {
  const manifests: Manifest[] = [];
  for (const { text, source } of documents) {
    let parsed: unknown[];
    try {
      parsed = yaml.loadAll(text, undefined, { filename: source });
    } catch (error) {
      const e = error as yaml.YAMLException;
      throw new InputError(
        input,
        `${source} is not valid YAML: ${e.reason ?? e.message}${e.mark ? ` (line ${e.mark.line + 1})` : ''}`,
      );
    }
    for (const [index, document] of parsed.entries()) {
      if (document === null || document === undefined) continue;
      if (typeof document !== 'object' || Array.isArray(document)) {
        throw new InputError(input, `${source} document ${index + 1} is not a Kubernetes object`);
      }
      const object = document as Partial<Manifest> & { items?: unknown[] };
      if (object.kind === 'List' && Array.isArray(object.items)) {
        for (const item of object.items) manifests.push(checkObject(item, source, index, input));
        continue;
      }
      manifests.push(checkObject(object, source, index, input));
    }
  }
  if (manifests.length === 0) throw new InputError(input, 'no Kubernetes objects found');
  return manifests;
}

function checkObject(value: unknown, source: string, index: number, input: string): Manifest {
  const object = value as Partial<Manifest>;
  const where = `${source} document ${index + 1}`;
  if (typeof object.apiVersion !== 'string' || typeof object.kind !== 'string') {
    throw new InputError(input, `${where} needs apiVersion and kind`);
  }
  if (typeof object.metadata?.name !== 'string' || object.metadata.name === '') {
    throw new InputError(input, `${where} (${object.kind}) needs metadata.name`);
  }
  return { ...(object as Manifest), source };
}

/**
 * Renders a kustomization with `kustomize build`, or with the kustomize built into kubectl (`kubectl kustomize`,
 * `$KUBECTL` or kubectl on PATH) when no standalone kustomize is installed.
 */
async function kustomizeBuild(dir: string): Promise<string> {
  const tools: [string, string[]][] = [
    ['kustomize', ['build', dir]],
    [process.env.KUBECTL || 'kubectl', ['kustomize', dir]],
  ];
  const missing: string[] = [];
  for (const [file, args] of tools) {
    try {
      return (await run(file, args)).stdout;
    } catch (error) {
      const message = (error as Error).message;
      if (/is not installed or not on PATH/.test(message)) {
        missing.push(file);
        continue;
      }
      throw new InputError(
        '--manifests',
        `"${dir}" is a kustomization but ${file} could not render it: ${message}`,
      );
    }
  }
  throw new InputError(
    '--manifests',
    `"${dir}" is a kustomization, but neither kustomize nor kubectl is installed to render it (tried ${missing.join(', ')})`,
  );
}

/** `name=ref@sha256:…` from --image: which containers get which image. */
export interface ImageSubstitution {
  /** A container name, or an image repository as written in the manifests (`web`, `registry/app`). */
  name: string;
  ref: string;
}

export function parseImageSubstitution(text: string): ImageSubstitution {
  const eq = text.indexOf('=');
  if (eq <= 0)
    throw new InputError('--image', `expected name=ref@sha256:digest, got ${JSON.stringify(text)}`);
  const name = text.slice(0, eq).trim();
  const ref = text.slice(eq + 1).trim();
  const parsed = parseImageReference(ref, '--image');
  if (!parsed.digest)
    throw new InputError('--image', `"${ref}" has no digest: images are deployed by digest (ref@sha256:…)`);
  return { name, ref };
}

interface PodTemplateHolder {
  spec?: {
    template?: {
      spec?: {
        containers?: { name: string; image?: string }[];
        initContainers?: { name: string; image?: string }[];
      };
    };
  };
}

/**
 * Puts each image into the pod templates that name it (by container name or by image repository), returning
 * new objects. Every substitution must match at least one container, or it is bad input.
 */
export function substituteImages(manifests: Manifest[], substitutions: ImageSubstitution[]): Manifest[] {
  const used = new Set<string>();
  const out = manifests.map((manifest) => {
    const copy = structuredClone(manifest) as Manifest & PodTemplateHolder;
    const pod = copy.spec?.template?.spec;
    if (!pod) return copy;
    for (const container of [...(pod.containers ?? []), ...(pod.initContainers ?? [])]) {
      const repository = container.image ? repositoryOf(container.image) : undefined;
      const match = substitutions.find((s) => s.name === container.name || s.name === repository);
      if (match) {
        container.image = match.ref;
        used.add(match.name);
      }
    }
    return copy;
  });
  const unused = substitutions.filter((s) => !used.has(s.name));
  if (unused.length > 0) {
    throw new InputError(
      '--image',
      `"${unused[0]!.name}" matches no container name or image in the manifests`,
    );
  }
  return out;
}

function repositoryOf(image: string): string {
  return image.replace(/@sha256:[a-f0-9]+$/, '').replace(/:[^:/]+$/, '');
}

/** The Deployment the rollout is about: the one named, or the only Deployment in the manifests. */
export function findTarget(manifests: Manifest[], name?: string): Manifest {
  const deployments = manifests.filter((m) => m.kind === 'Deployment');
  if (name) {
    const found = deployments.find((d) => d.metadata.name === name);
    if (!found) throw new InputError('--name', `no Deployment "${name}" in the manifests`);
    return found;
  }
  if (deployments.length === 1) return deployments[0]!;
  if (deployments.length === 0) throw new InputError('--manifests', 'no Deployment in the manifests');
  throw new InputError(
    '--name',
    `the manifests hold ${deployments.length} Deployments; name the one to roll out`,
  );
}
