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
