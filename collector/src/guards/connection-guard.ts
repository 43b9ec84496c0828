import type { Server } from 'node:http';
import type { Socket } from 'node:net';

export interface ConnectionGuardOptions {
  /** Open connections at most; past it, the connection that has waited longest without a request goes. */
  maxConnections: number;
  /** Time a client has to send its request headers. */
  headersTimeoutMs: number;
  /** Time a client has to send its whole request. */
  requestTimeoutMs: number;
}

/**
 * Bounds the HTTP server's connections and how long a client may take to send a request. When the
 * cap is reached, the connection that has waited longest without a request in progress (headers
 * trickling in, or an idle keep-alive) is closed to make room: slow or idle connections can neither
 * exhaust the process's file descriptors nor keep a valid request out. A request being served is never
 * closed for room; its time is bounded by the request timeout.
 */
export const guardConnections = (
  server: Server,
  { maxConnections, headersTimeoutMs, requestTimeoutMs }: ConnectionGuardOptions,
): void => {
  server.headersTimeout = headersTimeoutMs;
  server.requestTimeout = requestTimeoutMs;
  /** Connections without a request in progress, longest waiting first (a Set keeps insertion order). */
  const waiting = new Set<Socket>();
  let open = 0;
  server.on('connection', function guardConnection(socket: Socket) {
    open += 1;
    waiting.add(socket);
    socket.once('close', () => {
      open -= 1;
      waiting.delete(socket);
    });
    if (open <= maxConnections) return;
    const longestWaiting = waiting.values().next().value as Socket;
    longestWaiting.destroy();
  });
  server.on('request', function markBusy(request, response) {
    const socket = request.socket;
    waiting.delete(socket);
    response.once('finish', () => {
      if (!socket.destroyed) waiting.add(socket);
    });
  });
};
