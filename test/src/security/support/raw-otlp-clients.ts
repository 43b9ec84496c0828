import * as http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import type { Hono } from 'hono';

const TRACE_EXPORT = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';
const identity = (bytes: Buffer) => bytes;

export interface GrpcAnswer {
  code: grpc.status;
  details: string;
}

/** A real grpc-js client that sends arbitrary bytes as an `ExportTraceServiceRequest`. */
export const rawGrpcTraceClient = (port: number, options: grpc.ClientOptions = {}) => {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), options);
  return {
    export(body: Uint8Array, metadata = new grpc.Metadata()): Promise<GrpcAnswer> {
      return new Promise((resolve) => {
        client.makeUnaryRequest(
          TRACE_EXPORT,
          identity,
          identity,
          Buffer.from(body),
          metadata,
          { deadline: Date.now() + 20_000 },
          (error) =>
            resolve(
              error
                ? { code: error.code ?? grpc.status.UNKNOWN, details: error.details ?? '' }
                : { code: grpc.status.OK, details: '' },
            ),
        );
      });
    },
    close: () => client.close(),
  };
};

export interface HttpAnswer {
  status: number;
  body: string;
  headers: Headers;
}

/** Posts bytes to an OTLP/HTTP app (the collector's Hono routes) without a socket. */
export const postToApp = async (
  app: Hono,
  path: string,
  body: Uint8Array | string,
  headers: Record<string, string>,
): Promise<HttpAnswer> => {
  const response = await app.request(path, { method: 'POST', body, headers });
  return { status: response.status, body: await response.text(), headers: response.headers };
};

/**
 * gRPC on the wire, without a gRPC library: one HTTP/2 connection that sends messages already
 * gzip-compressed (flag 1 in the message prefix), the way an attacker sends a small message that
 * inflates large without paying to compress it each time.
 */
export const precompressedGrpcTraceClient = (port: number) => {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  session.on('error', () => undefined);
  return {
    export(gzipped: Uint8Array, authorization?: string): Promise<GrpcAnswer> {
      return new Promise((resolve) => {
        const prefix = Buffer.alloc(5);
        prefix.writeUInt8(1, 0);
        prefix.writeUInt32BE(gzipped.byteLength, 1);
        const stream = session.request({
          ':method': 'POST',
          ':path': TRACE_EXPORT,
          'content-type': 'application/grpc',
          'grpc-encoding': 'gzip',
          te: 'trailers',
          ...(authorization && { authorization }),
        });
        let status: { code: number; details: string } | undefined;
        const read = (headers: http2.IncomingHttpHeaders) => {
          const code = headers['grpc-status'];
          if (code !== undefined) {
            status = {
              code: Number(code),
              details: decodeURIComponent(String(headers['grpc-message'] ?? '')),
            };
          }
        };
        stream.on('response', read);
        stream.on('trailers', read);
        stream.on('data', () => undefined);
        stream.on('error', () => undefined);
        stream.on('close', () => resolve(status ?? { code: grpc.status.UNKNOWN, details: 'no status' }));
        stream.end(Buffer.concat([prefix, gzipped]));
      });
    },
    close: () => session.close(),
  };
};
