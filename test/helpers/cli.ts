import { resolve } from 'node:path';
import { execa } from 'execa';

export const repoRoot = resolve(import.meta.dirname, '..', '..');
export const cliPath = resolve(repoRoot, 'dist', 'cli.js');

export interface CliRun {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** stdout parsed, when it is one JSON object. */
  json: Record<string, unknown> | undefined;
}

/** Runs the bundled `gantry` CLI (what users get) as a separate process. */
export async function runCli(
  args: string[],
  options: { env?: Record<string, string | undefined>; cwd?: string; input?: string } = {},
): Promise<CliRun> {
  const result = await execa(process.execPath, [cliPath, ...args], {
    cwd: options.cwd ?? repoRoot,
    env: options.env,
    input: options.input ?? '',
    reject: false,
  });
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(String(result.stdout));
  } catch {
    json = undefined;
  }
  return {
    exitCode: result.exitCode ?? -1,
    stdout: String(result.stdout),
    stderr: String(result.stderr),
    json,
  };
}

/** The manifest digest the registry serves for repo:tag, asked over the registry API itself. */
export async function registryDigest(
  registry: string,
  repository: string,
  tag: string,
): Promise<string | undefined> {
  const response = await fetch(`http://${registry}/v2/${repository}/manifests/${tag}`, {
    method: 'HEAD',
    headers: {
      accept: [
        'application/vnd.oci.image.manifest.v1+json',
        'application/vnd.oci.image.index.v1+json',
        'application/vnd.docker.distribution.manifest.v2+json',
        'application/vnd.docker.distribution.manifest.list.v2+json',
      ].join(', '),
    },
  });
  if (response.status !== 200) return undefined;
  return response.headers.get('docker-content-digest') ?? undefined;
}

/** Tags of a repository in the registry ([] when the repository does not exist). */
export async function registryTags(registry: string, repository: string): Promise<string[]> {
  const response = await fetch(`http://${registry}/v2/${repository}/tags/list`);
  if (response.status !== 200) return [];
  const body = (await response.json()) as { tags?: string[] | null };
  return body.tags ?? [];
}
