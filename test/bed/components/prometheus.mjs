// Prometheus (Debian's /usr/bin/prometheus, 2.42) scraping the traffic simulator, the gateway (Traefik) and the
// data plane's responders every second, on a free 127.0.0.1 port, its TSDB under the state directory. Waits
// until it is ready and has scraped the simulator once, so that a test starting right after `testbed up` finds
// data.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, spawnDaemon, stopPid, waitFor } from '../lib.mjs';

export const name = 'prometheus';

export async function start({ stateDir, env }) {
  const simulator = env.SIMULATOR_URL;
  if (!simulator) throw new Error('prometheus: no SIMULATOR_URL; the simulator component must start first');
  const binary = process.env.GANTRY_TESTBED_PROMETHEUS ?? '/usr/bin/prometheus';
  const port = Number(process.env.GANTRY_TESTBED_PROMETHEUS_PORT ?? (await freePort()));
  const dir = join(stateDir, 'prometheus');
  mkdirSync(join(dir, 'data'), { recursive: true });
  const config = join(dir, 'prometheus.yml');
  writeFileSync(
    config,
    [
      'global:',
      '  scrape_interval: 1s',
      '  evaluation_interval: 1s',
      '  scrape_timeout: 1s',
      'scrape_configs:',
      '  - job_name: simulator',
      '    static_configs:',
      `      - targets: ['${new URL(simulator).host}']`,
      // The real data plane: Traefik's own metrics, and the responders' counts per pod.
      ...scrapeJob('gateway', env.GATEWAY_METRICS_URL),
      ...scrapeJob('dataplane', env.DATAPLANE_URL),
      '',
    ].join('\n'),
  );
  const pid = spawnDaemon(stateDir, 'prometheus', binary, [
    `--config.file=${config}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    '--storage.tsdb.retention.time=1d',
    `--web.listen-address=127.0.0.1:${port}`,
    '--web.enable-lifecycle',
    '--log.level=warn',
  ]);
  const url = `http://127.0.0.1:${port}`;
  const logFile = join(stateDir, 'logs', 'prometheus.log');
  try {
    await waitFor(
      `Prometheus ${url}/-/ready (see ${logFile})`,
      async () => {
        const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(2000) }).catch(() => null);
        return res?.status === 200;
      },
      30000,
      100,
    );
    await waitFor(
      `Prometheus's first scrape of ${simulator} (see ${logFile})`,
      async () => {
        const query = encodeURIComponent('up{job="simulator"} == 1');
        const res = await fetch(`${url}/api/v1/query?query=${query}`, { signal: AbortSignal.timeout(2000) });
        const body = await res.json();
        return body.status === 'success' && body.data.result.length > 0;
      },
      30000,
      200,
    );
  } catch (error) {
    await stopPid(pid);
    throw error;
  }
  return { pids: [pid], env: { PROMETHEUS_URL: url } };
}

/** A scrape job for a sandbox server, when that component runs. */
function scrapeJob(job, url) {
  if (!url) return [];
  return [`  - job_name: ${job}`, '    static_configs:', `      - targets: ['${new URL(url).host}']`];
}
