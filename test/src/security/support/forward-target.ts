import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

/**
 * A downstream OTLP/HTTP endpoint (what Tempo or Jaeger would be) that keeps every request body as
 * received, decompressed, and answers with an empty success: nothing on this side redacts.
 */
export const startForwardTarget = async () => {
  const bodies: Buffer[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const raw = Buffer.concat(chunks);
      bodies.push(request.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw);
      response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1/traces`,
    /** Everything forwarded so far, as one text to search. */
    received: () => Buffer.concat(bodies).toString('latin1'),
    requests: () => bodies.length,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
};
