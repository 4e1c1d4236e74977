// The Docker path of a GitHub-hosted runner: a real Docker daemon (Debian's dockerd, vfs storage, no bridge and
// no iptables, on a unix socket of the sandbox's own) and a real BuildKit daemon (buildkitd, OCI worker with runc)
// registered as a `remote` buildx builder — a builder with no local image store, like the docker-container driver
// that docker/setup-buildx-action creates. Nothing can be pulled from the internet, so the sandbox registry
// serves `library/busybox` (busybox-static on scratch) and is both daemons' mirror for docker.io.
//
// The daemon is published as GANTRY_TESTBED_DOCKER_HOST rather than DOCKER_HOST: with DOCKER_HOST set, every
// `--builder auto` in the other suites would switch to buildx. Tests that take the Docker path set DOCKER_HOST
// themselves (and BUILDX_BUILDER=<GANTRY_TESTBED_BUILDX_REMOTE> for the remote builder).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { commandExists, log, spawnDaemon, stopPid, waitFor } from '../lib.mjs';

export const name = 'docker';
export const REMOTE_BUILDER = 'gantry-remote';

/** Runtime paths go under /tmp: unix socket paths are limited to 108 bytes, and the state dir may be deep. */
function runtimeDir(stateDir) {
  const key = createHash('sha256').update(stateDir).digest('hex').slice(0, 10);
  return join(tmpdir(), `gantry-docker-${key}`);
}

function sh(command, args, env = {}) {
  return execFileSync(command, args, {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** library/busybox:latest in the sandbox registry: FROM scratch + Debian's busybox-static with its applets. */
function seedBusybox(registry, env) {
  const work = mkdtempSync(join(tmpdir(), 'gantry-busybox-'));
  try {
    execFileSync('cp', ['/bin/busybox', join(work, 'busybox')]);
    writeFileSync(
      join(work, 'Containerfile'),
      'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "--install", "-s", "/bin"]\n',
    );
    const ref = `${registry}/library/busybox:latest`;
    sh('buildah', ['bud', '--quiet', '--isolation', 'chroot', '--tag', ref, work], env);
    sh('buildah', ['push', '--quiet', '--tls-verify=false', ref, `docker://${ref}`], env);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export async function start({ stateDir, env }) {
  for (const command of ['dockerd', 'buildkitd', 'docker']) {
    if (!commandExists(command)) throw new Error(`${command} is not installed; run \`npm run setup\``);
  }
  if (!env.REGISTRY) throw new Error('the docker component needs the registry component');
  const registry = env.REGISTRY;
  const run = runtimeDir(stateDir);
  rmSync(run, { recursive: true, force: true });
  mkdirSync(run, { recursive: true });
  const pids = [];
  try {
    // --- dockerd ------------------------------------------------------------------------------------------
    const dockerSock = join(run, 'docker.sock');
    const dockerData = join(stateDir, 'docker-data');
    mkdirSync(dockerData, { recursive: true });
    pids.push(
      spawnDaemon(stateDir, 'dockerd', 'dockerd', [
        '--data-root',
        dockerData,
        '--exec-root',
        join(run, 'exec'),
        '--pidfile',
        join(run, 'dockerd.pid'),
        '-H',
        `unix://${dockerSock}`,
        '--storage-driver',
        'vfs',
        '--iptables=false',
        '--ip-masq=false',
        '--bridge=none',
        '--registry-mirror',
        `http://${registry}`,
        '--insecure-registry',
        registry,
      ]),
    );
    const dockerHost = `unix://${dockerSock}`;
    await waitFor(
      'dockerd',
      () => {
        try {
          return sh('docker', ['info', '--format', '{{.ServerVersion}}'], { DOCKER_HOST: dockerHost }).trim();
        } catch {
          return false;
        }
      },
      60000,
    );

    // --- buildkitd ------------------------------------------------------------------------------------------
    const buildkitSock = join(run, 'buildkitd.sock');
    const buildkitConfig = join(stateDir, 'buildkitd.toml');
    writeFileSync(
      buildkitConfig,
      [
        `[registry."docker.io"]`,
        `  mirrors = ["${registry}"]`,
        `[registry."${registry}"]`,
        '  http = true',
        '  insecure = true',
        '',
      ].join('\n'),
    );
    pids.push(
      spawnDaemon(stateDir, 'buildkitd', 'buildkitd', [
        '--root',
        join(stateDir, 'buildkit'),
        '--addr',
        `unix://${buildkitSock}`,
        '--config',
        buildkitConfig,
        '--oci-worker=true',
        '--containerd-worker=false',
        '--oci-worker-net=host',
        '--oci-worker-snapshotter=native',
      ]),
    );
    await waitFor(
      'buildkitd',
      () => {
        try {
          sh('buildctl', ['--addr', `unix://${buildkitSock}`, 'debug', 'workers']);
          return true;
        } catch {
          return false;
        }
      },
      60000,
    );

    // --- the docker CLI's configuration: the buildx plugin and the remote builder --------------------------
    const dockerConfig = join(stateDir, 'docker-config');
    mkdirSync(join(dockerConfig, 'cli-plugins'), { recursive: true });
    const plugin = join(homedir(), '.docker', 'cli-plugins', 'docker-buildx');
    const link = join(dockerConfig, 'cli-plugins', 'docker-buildx');
    if (!existsSync(link)) symlinkSync(plugin, link);
    if (!existsSync(join(dockerConfig, 'config.json')))
      writeFileSync(join(dockerConfig, 'config.json'), '{}\n');
    const cli = { DOCKER_HOST: dockerHost, DOCKER_CONFIG: dockerConfig };
    try {
      sh('docker', ['buildx', 'rm', '--force', REMOTE_BUILDER], cli);
    } catch {} // none yet
    sh(
      'docker',
      ['buildx', 'create', '--name', REMOTE_BUILDER, '--driver', 'remote', `unix://${buildkitSock}`],
      cli,
    );
    sh('docker', ['buildx', 'inspect', '--bootstrap', REMOTE_BUILDER], cli);

    seedBusybox(registry, env);
    log(
      `dockerd ${sh('docker', ['version', '--format', '{{.Server.Version}}'], cli).trim()}, buildkitd, buildx builder ${REMOTE_BUILDER}`,
    );
    return {
      pids,
      env: {
        GANTRY_TESTBED_DOCKER_HOST: dockerHost,
        GANTRY_TESTBED_DOCKER_CONFIG: dockerConfig,
        GANTRY_TESTBED_BUILDX_REMOTE: REMOTE_BUILDER,
      },
    };
  } catch (error) {
    for (const pid of pids.reverse()) await stopPid(pid, 10000);
    throw error;
  }
}

export async function stop({ stateDir }, entry) {
  // buildkitd first, then dockerd (its containerd is in its process group), each given time to shut down.
  for (const pid of [...entry.pids].reverse()) await stopPid(pid, 15000);
  rmSync(runtimeDir(stateDir), { recursive: true, force: true });
}
