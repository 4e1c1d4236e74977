// Runs a program in the network namespace this process was started in (`unshare --net node netns-exec.mjs …`):
// a new namespace with only loopback, so whatever the program listens on (Flagger binds its metrics port on
// every interface, with no flag to change it) is reachable from nowhere. The few host services it needs are
// brought in over Unix sockets: for each PORT, a listener on this namespace's 127.0.0.1:PORT forwards to
// SOCKETS/PORT.sock, which the host side (bridge() in flagger.mjs) forwards to the host's 127.0.0.1:PORT.
// Usage: netns-exec.mjs SOCKETS PORT[,PORT…] -- PROGRAM [ARGS…]
// Ends when the program ends (with its exit code); SIGTERM/SIGINT are passed on to it.
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { forwarder } from './forward.mjs';

const [sockets, portList, dashes, program, ...args] = process.argv.slice(2);
if (!sockets || !portList || dashes !== '--' || !program) {
  process.stderr.write('usage: netns-exec.mjs SOCKETS PORT[,PORT…] -- PROGRAM [ARGS…]\n');
  process.exit(2);
}
execFileSync('ip', ['link', 'set', 'lo', 'up']);

const listening = portList.split(',').map(
  (port) =>
    new Promise((resolve, reject) => {
      const server = forwarder(join(sockets, `${port}.sock`));
      server.on('error', reject);
      server.listen(Number(port), '127.0.0.1', resolve);
    }),
);
await Promise.all(listening);

const child = spawn(program, args, { stdio: 'inherit' });
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
