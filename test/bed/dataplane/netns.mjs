// The data plane's network namespace: a namespace of the sandbox's own, joined to the host by a veth pair with
// link-local addresses, the host routing ONLY the pod network into it (never a private range, never touching
// the host's other interfaces or its default route). Inside, lo is up and the whole pod network is local
// (`ip route add local <pod network> dev lo table local`, "AnyIP"): a responder binds any pod IP without an
// address being added, and a pod IP nothing listens on refuses connections at once.
// Names derive from the state directory, so two sandboxes on one host never share them (they could not both
// route the pod network anyway: setUp refuses a pod network that is already routed elsewhere).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { resolve } from 'node:path';
import { overlaps, parseCidr } from './pods.mjs';

const PRIVATE = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'];

/** Names and addresses of the data plane's namespace for a state directory. */
export function netnsNames(stateDir) {
  const hash = createHash('sha256').update(resolve(stateDir)).digest();
  const short = hash.toString('hex').slice(0, 8);
  // A /30 in 169.254.1.0–169.254.254.255, never 169.254.169.0/24 (where clouds keep their metadata service).
  let third = 1 + (hash[4] % 254);
  if (third === 169) third = 170;
  const base = (hash[5] % 64) * 4;
  return {
    netns: `gantry-dp-${short}`,
    // Interface names are at most 15 characters.
    hostVeth: `gdph${short}`,
    nsVeth: `gdpn${short}`,
    hostIp: `169.254.${third}.${base + 1}`,
    nsIp: `169.254.${third}.${base + 2}`,
    prefixLength: 30,
  };
}

function ip(args, options = {}) {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...options });
}

function tryIp(args) {
  try {
    return ip(args);
  } catch {
    return undefined;
  }
}

function netnsExists(netns) {
  return (tryIp(['netns', 'list']) ?? '').split('\n').some((line) => line.split(' ')[0] === netns);
}

function linkExists(name) {
  return tryIp(['link', 'show', 'dev', name]) !== undefined;
}

function sysctl(path, value) {
  try {
    writeFileSync(`/proc/sys/${path}`, `${value}\n`);
  } catch {}
}

/**
 * Creates the namespace, the veth pair and the routes; a namespace or veth left by a crashed run is removed
 * first (with any process still inside the namespace). Checks that a connection from the host to an unused pod
 * IP is refused (so the route and the AnyIP route work). On failure, removes what it made and throws.
 */
export async function setUp({ names, podNetwork, log = () => {} }) {
  const network = parseCidr(podNetwork);
  const cidr = `${numberToIp(network.base)}/${network.bits}`;
  const privateRange = PRIVATE.find((p) => overlaps(p, cidr));
  if (privateRange)
    throw new Error(`dataplane: the pod network ${cidr} overlaps ${privateRange}; the host never routes it`);
  if (network.bits < 8) throw new Error(`dataplane: the pod network ${cidr} is too wide to route`);

  if (await tearDown(names, { log })) log(`dataplane: removed a stale ${names.netns} first`);

  const routed = (tryIp(['-j', 'route', 'show', 'exact', cidr]) ?? '[]').trim();
  if (routed !== '' && routed !== '[]')
    throw new Error(`dataplane: the host already routes ${cidr}: ${routed}; another sandbox may own it`);
  const taken = JSON.parse(tryIp(['-j', '-4', 'addr', 'show']) ?? '[]').flatMap((link) =>
    (link.addr_info ?? [])
      .filter((a) => overlaps(`${a.local}/${a.prefixlen}`, `${names.hostIp}/${names.prefixLength}`))
      .map((a) => `${a.local} on ${link.ifname}`),
  );
  if (taken.length > 0)
    throw new Error(`dataplane: ${names.hostIp}/${names.prefixLength} is in use on the host: ${taken}`);

  const inNs = (args) => ip(['-n', names.netns, ...args]);
  try {
    ip(['netns', 'add', names.netns]);
    ip(['link', 'add', names.hostVeth, 'type', 'veth', 'peer', 'name', names.nsVeth, 'netns', names.netns]);
    // The host side: its own link-local address, no IPv6 (no router solicitations), reverse-path filtering off
    // on this interface only: replies come from pod IPs, which the host routes back through it anyway.
    sysctl(`net/ipv6/conf/${names.hostVeth}/disable_ipv6`, 1);
    sysctl(`net/ipv4/conf/${names.hostVeth}/rp_filter`, 0);
    ip(['addr', 'add', `${names.hostIp}/${names.prefixLength}`, 'dev', names.hostVeth]);
    ip(['link', 'set', names.hostVeth, 'up']);
    inNs(['link', 'set', 'lo', 'up']);
    inNs(['addr', 'add', `${names.nsIp}/${names.prefixLength}`, 'dev', names.nsVeth]);
    inNs(['link', 'set', names.nsVeth, 'up']);
    // In the local table: bind() accepts an address only if the local table says it is ours.
    inNs(['route', 'add', 'local', cidr, 'dev', 'lo', 'table', 'local']);
    ip(['route', 'add', cidr, 'via', names.nsIp, 'dev', names.hostVeth, 'src', names.hostIp]);
    await expectRefused(numberToIp(network.base + network.size - 2), 9, 3000);
  } catch (error) {
    await tearDown(names, { log }).catch(() => {});
    throw new Error(
      `dataplane: setting up ${names.netns} failed: ${error.stderr?.trim?.() || error.message}`,
    );
  }
  log(
    `dataplane: ${names.netns} up: ${cidr} via ${names.nsIp} (${names.hostVeth} ${names.hostIp} ⇄ ${names.nsVeth})`,
  );
}

/**
 * Removes the namespace and the veth pair (the host's route goes with the veth). Stops any process still in
 * the namespace first, since a namespace with processes in it outlives `ip netns del` (and keeps its end of
 * the veth). Safe when nothing is there; returns true when something was removed.
 */
export async function tearDown(names, { log = () => {} } = {}) {
  let removed = false;
  if (netnsExists(names.netns)) {
    const pids = (tryIp(['netns', 'pids', names.netns]) ?? '').split('\n').filter(Boolean).map(Number);
    if (pids.length > 0) {
      log(`dataplane: stopping processes left in ${names.netns}: ${pids.join(', ')}`);
      await stopPids(pids);
    }
  }
  if (linkExists(names.hostVeth)) {
    ip(['link', 'del', names.hostVeth]);
    removed = true;
  }
  if (netnsExists(names.netns)) {
    ip(['netns', 'del', names.netns]);
    removed = true;
  }
  return removed;
}

async function stopPids(pids) {
  const alive = (pid) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {}
  }
  const deadline = Date.now() + 3000;
  while (Date.now() < deadline && pids.some(alive)) await new Promise((r) => setTimeout(r, 50));
  for (const pid of pids.filter(alive)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  }
}

function numberToIp(value) {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

/** Resolves when a TCP connection to ip:port is refused; rejects if it connects or times out. */
export function expectRefused(host, port, timeoutMs) {
  return new Promise((resolvePromise, reject) => {
    const socket = connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new Error(`a connection to ${host}:${port} neither connected nor was refused in ${timeoutMs} ms`),
      );
    }, timeoutMs);
    socket.on('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      reject(new Error(`${host}:${port} accepted a connection; expected it refused`));
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      if (error.code === 'ECONNREFUSED') resolvePromise();
      else reject(error);
    });
  });
}
