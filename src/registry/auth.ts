import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../util/errors.js';
import { run } from '../util/exec.js';
import { log } from '../util/log.js';
import { registerSecret } from '../util/secrets.js';

/**
 * Registry credentials, gathered from where each platform keeps them and written to one private auth file
 * (mode 0600, in a 0700 temp directory, deleted afterwards) that buildah and skopeo read with --authfile.
 * Credentials never go on argv and are registered for masking the moment they are read.
 *
 * Sources, later ones winning for the same registry:
 * 1. docker config.json ($DOCKER_CONFIG/config.json or ~/.docker/config.json) and REGISTRY_AUTH_FILE: `auths`
 *    entries, then the credential helpers it names (`credsStore` for every registry the store lists,
 *    `credHelpers` per registry: `docker-credential-<name> list|get`, as ECR, GCR and ACR logins write them);
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

interface DockerConfig {
  auths?: Record<string, { auth?: string }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
}

/** `https://index.docker.io/v1/` → `index.docker.io`; `registry:5000` as it is. */
const registryKey = (server: string) =>
  server
    .replace(/^https?:\/\//, '')
    .replace(/\/v[12]\/?$/, '')
    .replace(/\/$/, '');

async function readAuths(file: string): Promise<Auths> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return {};
  }
  let parsed: DockerConfig;
  try {
    parsed = JSON.parse(text) as DockerConfig;
  } catch {
    throw new InputError(file, 'is not valid docker config JSON');
  }
  const out: Auths = {};
  for (const [registry, entry] of Object.entries(parsed.auths ?? {})) {
    if (!entry.auth) continue; // an entry kept by a credential helper: read below
    registerSecret(entry.auth);
    const decoded = Buffer.from(entry.auth, 'base64').toString();
    registerSecret(decoded.slice(decoded.indexOf(':') + 1));
    out[registryKey(registry)] = { auth: entry.auth };
  }
  const helpers: [string, string][] = Object.entries(parsed.credHelpers ?? {});
  if (parsed.credsStore) {
    const servers = await credentialHelper(parsed.credsStore, 'list', '');
    for (const server of Object.keys((servers as Record<string, string> | undefined) ?? {})) {
      if (!parsed.credHelpers?.[server]) helpers.unshift([server, parsed.credsStore]);
    }
  }
  for (const [server, helper] of helpers) {
    const found = (await credentialHelper(helper, 'get', server)) as
      | { Username?: string; Secret?: string }
      | undefined;
    if (!found?.Secret || !found.Username) continue;
    // `<token>` marks an identity token (an OAuth refresh token), which registries do not take as a password.
    if (found.Username === '<token>') {
      registerSecret(found.Secret);
      log.warn(
        `credential helper ${helper} gave an identity token for ${server}; only username/password logins are used`,
      );
      continue;
    }
    addAuth(out, registryKey(server), found.Username, found.Secret);
  }
  return out;
}

/**
 * Asks a docker credential helper (`docker-credential-<name>` on PATH), with the server on stdin as the
 * helper protocol has it. Undefined when it has no credentials for the server, or cannot answer: that is
 * logged as a warning, and the registry is then reached without credentials from it (the push or scan says
 * so if the registry wants them), as the docker CLI would.
 */
async function credentialHelper(name: string, verb: 'get' | 'list', server: string): Promise<unknown> {
  // A command reads credentials more than once (the auth file, a scanner's environment): ask each helper once.
  const key = `${name}\u0000${verb}\u0000${server}`;
  if (!helperAnswers.has(key)) helperAnswers.set(key, askCredentialHelper(name, verb, server));
  return helperAnswers.get(key);
}

const helperAnswers = new Map<string, Promise<unknown>>();

async function askCredentialHelper(name: string, verb: 'get' | 'list', server: string): Promise<unknown> {
  const binary = `docker-credential-${name}`;
  const failed = (why: string) => {
    log.warn(`credential helper ${binary} ${verb}${server ? ` ${server}` : ''}: ${why}`);
    return undefined;
  };
  const result = await run(binary, [verb], { input: server, allowFailure: true, timeoutMs: 60_000 }).catch(
    () => undefined,
  );
  if (!result) return failed('not installed or not on PATH');
  if (result.exitCode !== 0) {
    // The protocol's answer for a server it does not know.
    if (/credentials not found/i.test(result.stdout + result.stderr)) return undefined;
    return failed(`exit ${result.exitCode}`);
  }
  try {
    return JSON.parse(result.stdout);
  } catch {
    return failed('did not answer with JSON');
  }
}
