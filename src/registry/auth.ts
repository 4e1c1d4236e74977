import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../util/errors.js';
import { registerSecret } from '../util/secrets.js';

/**
 * Registry credentials, gathered from where each platform keeps them and written to one private auth file
 * (mode 0600, in a 0700 temp directory, deleted afterwards) that buildah and skopeo read with --authfile.
 * Credentials never go on argv and are registered for masking the moment they are read.
 *
 * Sources, later ones winning for the same registry:
 * 1. docker config.json ($DOCKER_CONFIG/config.json or ~/.docker/config.json) and REGISTRY_AUTH_FILE;
 * 2. GitHub Actions: GITHUB_TOKEN (as GITHUB_ACTOR) for ghcr.io;
 * 3. GitLab CI: CI_REGISTRY_USER / CI_REGISTRY_PASSWORD for CI_REGISTRY;
 * 4. Gantry's own: GANTRY_REGISTRY_USERNAME / GANTRY_REGISTRY_PASSWORD for GANTRY_REGISTRY (host).
 */
export interface AuthFile {
  path: string;
  registries: string[];
  dispose(): Promise<void>;
}

type Auths = Record<string, { auth: string }>;

export async function prepareAuthFile(env: NodeJS.ProcessEnv = process.env): Promise<AuthFile> {
  const auths = await collectAuths(env);
  const dir = await mkdtemp(join(tmpdir(), 'gantry-auth-'));
  await chmod(dir, 0o700);
  const path = join(dir, 'auth.json');
  await writeFile(path, JSON.stringify({ auths }), { mode: 0o600 });
  return {
    path,
    registries: Object.keys(auths),
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
}

/**
 * The username and password Gantry has for one registry host (from the same sources as the auth file), for
 * tools that take credentials only from their environment (trivy, grype); undefined when there are none.
 */
export async function registryCredentials(
  host: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ username: string; password: string } | undefined> {
  const entry = (await collectAuths(env))[host];
  if (!entry) return undefined;
  const decoded = Buffer.from(entry.auth, 'base64').toString();
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

async function collectAuths(env: NodeJS.ProcessEnv): Promise<Auths> {
  const auths: Auths = {};
  for (const file of dockerConfigFiles(env)) Object.assign(auths, await readAuths(file));
  if (env.GITHUB_ACTIONS === 'true' && env.GITHUB_TOKEN) {
    addAuth(auths, 'ghcr.io', env.GITHUB_ACTOR ?? 'github-actions', env.GITHUB_TOKEN);
  }
  if (env.CI_REGISTRY && env.CI_REGISTRY_USER && env.CI_REGISTRY_PASSWORD) {
    addAuth(auths, env.CI_REGISTRY, env.CI_REGISTRY_USER, env.CI_REGISTRY_PASSWORD);
  }
  if (env.GANTRY_REGISTRY_PASSWORD) {
    if (!env.GANTRY_REGISTRY || !env.GANTRY_REGISTRY_USERNAME) {
      throw new InputError(
        'GANTRY_REGISTRY_PASSWORD',
        'needs GANTRY_REGISTRY (host) and GANTRY_REGISTRY_USERNAME',
      );
    }
    addAuth(auths, env.GANTRY_REGISTRY, env.GANTRY_REGISTRY_USERNAME, env.GANTRY_REGISTRY_PASSWORD);
  }
  return auths;
}

function addAuth(auths: Auths, registry: string, username: string, password: string): void {
  registerSecret(password);
  const auth = Buffer.from(`${username}:${password}`).toString('base64');
  registerSecret(auth);
  auths[registry] = { auth };
}

function dockerConfigFiles(env: NodeJS.ProcessEnv): string[] {
  const files = [join(env.DOCKER_CONFIG ?? join(homedir(), '.docker'), 'config.json')];
  if (env.REGISTRY_AUTH_FILE) files.push(env.REGISTRY_AUTH_FILE);
  return files;
}

async function readAuths(file: string): Promise<Auths> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return {};
  }
  try {
    const parsed = JSON.parse(text) as { auths?: Record<string, { auth?: string }> };
    const out: Auths = {};
    for (const [registry, entry] of Object.entries(parsed.auths ?? {})) {
      if (!entry.auth) continue; // credential helpers are left to the tools' own lookup
      registerSecret(entry.auth);
      const decoded = Buffer.from(entry.auth, 'base64').toString();
      registerSecret(decoded.slice(decoded.indexOf(':') + 1));
      out[registry.replace(/^https?:\/\//, '').replace(/\/v[12]\/?$/, '')] = { auth: entry.auth };
    }
    return out;
  } catch {
    throw new InputError(file, 'is not valid docker config JSON');
  }
}
