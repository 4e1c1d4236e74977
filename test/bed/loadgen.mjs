// Real load through the sandbox's gateway: requests at a fixed rate for a bounded time, to loopback only, each
// response recorded (when it was sent and answered, its status, which pod and track answered — the data
// plane's responders say so in `x-pod` / `x-track`). Tests and the real-data-plane benchmark use it to measure
// what users would see: the share of requests each version answers, and every failed request.
import http from 'node:http';

/** Upper bounds: a sandbox load generator must not become a flood. */
export const MAX_RPS = 2000;
export const MAX_DURATION_MS = 15 * 60 * 1000;

/**
 * Starts sending `rps` requests per second (evenly spaced) to `url` with the Host header `host`, until
 * `stop()` or `durationMs`. Each request has `timeoutMs` to answer. Returns the handle; `samples` grows as
 * responses come.
 */
export function startLoad({ url, host, rps = 50, durationMs = 60000, timeoutMs = 5000, path = '/' }) {
  const target = new URL(url);
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(target.hostname)) {
    throw new Error(`loadgen: ${url} is not a loopback address`);
  }
  if (!(rps > 0 && rps <= MAX_RPS)) throw new Error(`loadgen: rps must be in (0, ${MAX_RPS}], not ${rps}`);
  if (!(durationMs > 0 && durationMs <= MAX_DURATION_MS)) {
    throw new Error(`loadgen: durationMs must be in (0, ${MAX_DURATION_MS}], not ${durationMs}`);
  }
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const samples = [];
  let inFlight = 0;
  let stopped = false;
  let onIdle;
  const startedAt = Date.now();
  const intervalMs = 1000 / rps;
  let sent = 0;

  const send = () => {
    const sentAt = Date.now();
    inFlight++;
    const sample = { sentAt, doneAt: 0, status: 0, pod: '', track: '', error: '' };
    const finish = () => {
      sample.doneAt = Date.now();
      samples.push(sample);
      inFlight--;
      if (stopped && inFlight === 0) onIdle?.();
    };
    const req = http.request(
      {
        host: target.hostname,
        port: target.port,
        path,
        method: 'GET',
        agent,
        headers: { host },
        timeout: timeoutMs,
      },
      (res) => {
        sample.status = res.statusCode ?? 0;
        sample.pod = String(res.headers['x-pod'] ?? '');
        sample.track = String(res.headers['x-track'] ?? '');
        res.resume();
        res.on('end', finish);
        res.on('error', (error) => {
          sample.error = error.message;
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (error) => {
      if (sample.doneAt) return;
      sample.error = error.message;
      finish();
    });
    req.end();
  };

  // A self-correcting schedule: the n-th request goes at startedAt + n·interval, so timer jitter does not
  // lower the rate.
  let timer;
  const tick = () => {
    if (stopped) return;
    const now = Date.now();
    if (now - startedAt >= durationMs) return void handle.stop();
    while (sent * intervalMs <= now - startedAt) {
      sent++;
      send();
    }
    timer = setTimeout(tick, Math.max(1, startedAt + sent * intervalMs - Date.now()));
  };

  const handle = {
    samples,
    startedAt,
    /** Stops sending; resolves with every sample once the requests in flight have ended. */
    stop() {
      stopped = true;
      clearTimeout(timer);
      return new Promise((resolve) => {
        const done = () => {
          agent.destroy();
          resolve(samples);
        };
        if (inFlight === 0) done();
        else onIdle = done;
      });
    },
  };
  tick();
  return handle;
}

/** Whether a sample failed as a user would see it: no answer, or a status of 500 or above. */
export function failed(sample) {
  return sample.error !== '' || sample.status === 0 || sample.status >= 500;
}

/** Counts of samples sent in [from, to): total, failed, and per track. */
export function summarize(samples, from = 0, to = Number.POSITIVE_INFINITY) {
  const inWindow = samples.filter((s) => s.sentAt >= from && s.sentAt < to);
  const byTrack = {};
  for (const s of inWindow) if (s.track) byTrack[s.track] = (byTrack[s.track] ?? 0) + 1;
  const statuses = {};
  for (const s of inWindow) {
    const key = s.error ? 'error' : String(s.status);
    statuses[key] = (statuses[key] ?? 0) + 1;
  }
  return { total: inWindow.length, failed: inWindow.filter(failed).length, byTrack, statuses };
}

/** One GET to `url` with the Host header `host` (node:http: fetch may not set Host): status and track, or an Error. */
export function getVia(url, host, timeoutMs = 2000) {
  return new Promise((resolve) => {
    const target = new URL(url);
    const req = http.get(
      {
        host: target.hostname,
        port: target.port,
        path: '/',
        headers: { host },
        timeout: timeoutMs,
        agent: false,
      },
      (res) => {
        res.resume();
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, track: String(res.headers['x-track'] ?? '') }),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', resolve);
  });
}

/**
 * Waits until ten requests in a row for `host` through `url` are answered 200 by the stable track: a route just
 * created takes a proxy a moment (Traefik applies changes at most every 2 s), and a rollout measured under load
 * starts from a live service. Throws after `timeoutMs`, naming the last answer.
 */
export async function waitServing(url, host, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  let streak = 0;
  let last = '';
  while (Date.now() < deadline && streak < 10) {
    const res = await getVia(url, host);
    const ok = !(res instanceof Error) && res.status === 200 && res.track === 'stable';
    last = res instanceof Error ? res.message : `${res.status} ${res.track}`;
    streak = ok ? streak + 1 : 0;
    if (!ok) await new Promise((r) => setTimeout(r, 100));
  }
  if (streak < 10)
    throw new Error(`${host} is not served through ${url} after ${timeoutMs} ms (last: ${last})`);
}
