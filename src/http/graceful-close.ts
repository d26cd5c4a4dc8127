import type { Server, ServerResponse } from 'node:http';

/**
 * Prepares `server` for a graceful stop and returns the function that stops it. Stopping takes
 * no new connections, closes idle keep-alive connections at once, answers every request in
 * flight (and any that still arrives on a kept-alive connection) with `Connection: close`, so
 * each connection ends after its answer, and cuts whatever is still open at the deadline.
 * Resolves when every connection is closed, saying how many answers were cut short.
 */
export const gracefulClose = (server: Server) => {
  let closing = false;
  const inFlight = new Set<ServerResponse>();
  server.on('request', (_request, response: ServerResponse) => {
    if (closing) response.setHeader('connection', 'close');
    inFlight.add(response);
    response.once('close', () => inFlight.delete(response));
  });

  return (deadline: number): Promise<{ cut: number }> =>
    new Promise((closed) => {
      closing = true;
      for (const response of inFlight) {
        if (!response.headersSent) response.setHeader('connection', 'close');
      }
      let cut = 0;
      const timer = setTimeout(
        () => {
          cut = inFlight.size;
          server.closeAllConnections();
        },
        Math.max(0, deadline - Date.now()),
      );
      server.close(() => {
        clearTimeout(timer);
        closed({ cut });
      });
      server.closeIdleConnections();
    });
};
