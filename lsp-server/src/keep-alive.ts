// How long the LSP keeps an idle HTTP connection: longer than its reverse proxy reuses one.
import type { Server } from 'node:http';

/** nginx's upstream `keepalive_timeout` default: how long the proxy may hold an idle connection to reuse. */
export const PROXY_IDLE_SEC = 60;

/**
 * The reverse proxy keeps its connections to the LSP (docs/operating.md, section 5: nginx's
 * `keepalive`), so requests reach the LSP over connections it already has. Opening one per request
 * puts every request, honest or abusive, first in the kernel's accept queue, which Node 20's libuv
 * empties one connection per event-loop turn: under abuse that line, not the LSP's fair queue,
 * decided who waited (docs/architecture.md). The LSP then must not close an idle connection before
 * the proxy stops reusing it, or the proxy's next request on it fails (a 502 for a POST, which
 * nginx does not retry); so it waits longer. A header timeout shorter than that would close idle
 * kept connections too.
 */
export function keepConnectionsForProxy(server: Server): void {
  server.keepAliveTimeout = (PROXY_IDLE_SEC + 5) * 1000;
  server.headersTimeout = server.keepAliveTimeout + 1000;
  // close() ends the idle connections only: one whose answer was still being made would stay open
  // the whole idle time, and close() wait for it. So once the server stops listening, a connection
  // ends as soon as its answer is sent.
  server.on('request', (req, res) => {
    res.on('finish', () => {
      if (!server.listening) req.socket.end();
    });
  });
}
