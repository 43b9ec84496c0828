import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';

/** The peer address of an HTTP request served by Node (`unknown` when served without a socket, as in tests). */
export const httpClientAddress = (c: Context): string =>
  (c.env as { incoming?: IncomingMessage } | undefined)?.incoming?.socket.remoteAddress ?? 'unknown';

/** The address in a grpc-js peer (`ipv4:127.0.0.1:5000`, `ipv6:[::1]:5000`), without its port. */
export const grpcClientAddress = (peer: string): string =>
  peer
    .replace(/^ipv[46]:/, '')
    .replace(/:\d+$/, '')
    .replace(/^\[|\]$/g, '');
