// A byte-for-byte TCP/Unix-socket forwarder: each connection to the returned server is joined to a new
// connection made with `net.connect(...target)` (a port and host, or a socket path); an error on either side
// closes both. Used to bring host services into a loopback-only network namespace (flagger.mjs, netns-exec.mjs).
import net from 'node:net';

/** A server (not yet listening) whose connections are piped to `net.connect(...target)`. */
export function forwarder(...target) {
  return net.createServer((inbound) => {
    const outbound = net.connect(...target);
    inbound.pipe(outbound).pipe(inbound);
    inbound.on('error', () => outbound.destroy());
    outbound.on('error', () => inbound.destroy());
  });
}
