/**
 * The decode-only baseline: OTLP/gRPC and OTLP/HTTP protobuf servers that decode each request with
 * the collector's own decoder and answer success, storing nothing. The same exporters load it as
 * they load the collector, so the ratio isolates what redaction, batching and commit cost.
 *
 * `node --import tsx decode-only-server.ts` prints `READY {"grpcPort":…,"httpPort":…}`.
 */
import { createServer } from 'node:http';
import * as grpc from '@grpc/grpc-js';
import { decodeTraceRequestProtobuf, encodeExportTraceResponse } from '../../../collector/src/otlp/index.js';

const EMPTY_RESPONSE = Buffer.from(encodeExportTraceResponse('protobuf'));
let decodedSpans = 0;

const decode = (body: Uint8Array): void => {
  decodedSpans += decodeTraceRequestProtobuf(body).spans.length;
};

const http = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    try {
      decode(Buffer.concat(chunks));
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end(EMPTY_RESPONSE);
    } catch {
      res.writeHead(400).end();
    }
  });
});
await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));

const grpcServer = new grpc.Server({ 'grpc.max_receive_message_length': 16 * 1024 * 1024 });
grpcServer.addService(
  {
    Export: {
      path: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
      requestStream: false,
      responseStream: false,
      requestSerialize: (value: Buffer) => value,
      requestDeserialize: (value: Buffer) => value,
      responseSerialize: (value: Buffer) => value,
      responseDeserialize: (value: Buffer) => value,
    },
  },
  {
    Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      try {
        decode(call.request);
        callback(null, EMPTY_RESPONSE);
      } catch {
        callback({ code: grpc.status.INVALID_ARGUMENT, details: 'undecodable' });
      }
    },
  },
);
const grpcPort = await new Promise<number>((resolve, reject) =>
  grpcServer.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, port) =>
    error ? reject(error) : resolve(port),
  ),
);

const address = http.address();
const httpPort = typeof address === 'object' && address ? address.port : 0;
process.stdout.write(`READY ${JSON.stringify({ grpcPort, httpPort })}\n`);
process.on('SIGTERM', () => {
  process.stderr.write(`decoded ${decodedSpans} spans\n`);
  process.exit(0);
});
