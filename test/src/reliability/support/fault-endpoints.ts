import { randomBytes } from 'node:crypto';
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { encodeRpcStatus } from '../../../../collector/src/otlp/encode.js';
import { freePort } from '../../support/processes.js';

/** An OTLP endpoint that misbehaves in one way, on a fixed 127.0.0.1 port so it can later be swapped for a real receiver. */
export interface FaultEndpoint {
  readonly kind: FaultKind;
  readonly port: number;
  /** Requests (or connections, for the socket faults) that reached it. */
  readonly hits: () => number;
  /** Stops it and frees the port; connections it held are cut. */
  close(): Promise<void>;
}

export type FaultKind =
  | 'refused'
  | 'hang'
  | 'grpc-internal'
  | 'grpc-unavailable-retry-info'
  | 'grpc-resource-exhausted'
  | 'garbage';

export const FAULT_KINDS: readonly FaultKind[] = [
  'refused',
  'hang',
  'grpc-internal',
  'grpc-unavailable-retry-info',
  'grpc-resource-exhausted',
  'garbage',
];

const EXPORT_PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';
const passThrough = (value: Buffer) => value;

/** The OTLP trace service as raw bytes: the fault servers never need to decode what they refuse. */
const rawTraceService: grpc.ServiceDefinition = {
  Export: {
    path: EXPORT_PATH,
    requestStream: false,
    responseStream: false,
    requestSerialize: passThrough,
    requestDeserialize: passThrough,
    responseSerialize: passThrough,
    responseDeserialize: passThrough,
  },
};

const listenTcp = (port: number, onConnection: (socket: Socket) => void) =>
  new Promise<NetServer>((resolve, reject) => {
    const server = createServer(onConnection);
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });

const closeTcp = (server: NetServer, sockets: Set<Socket>) =>
  new Promise<void>((resolve) => {
    for (const socket of sockets) socket.destroy();
    server.close(() => resolve());
  });

/** A socket-level fault: accepts and stays silent, or answers every connection with random bytes. */
const startSocketFault = async (kind: 'hang' | 'garbage', port: number): Promise<FaultEndpoint> => {
  const sockets = new Set<Socket>();
  let hits = 0;
  const server = await listenTcp(port, (socket) => {
    hits += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    if (kind === 'garbage') {
      socket.write(randomBytes(512));
      socket.on('data', () => socket.write(randomBytes(256)));
    }
  });
  return { kind, port, hits: () => hits, close: () => closeTcp(server, sockets) };
};

const grpcErrorFor = (kind: 'grpc-internal' | 'grpc-unavailable-retry-info' | 'grpc-resource-exhausted') => {
  if (kind === 'grpc-internal') return { code: grpc.status.INTERNAL, details: 'injected internal error' };
  const code =
    kind === 'grpc-unavailable-retry-info' ? grpc.status.UNAVAILABLE : grpc.status.RESOURCE_EXHAUSTED;
  const metadata = new grpc.Metadata();
  metadata.set('grpc-status-details-bin', Buffer.from(encodeRpcStatus(code, 'injected throttling', 1)));
  return { code, details: 'injected throttling', metadata };
};

/** A real gRPC server that answers every export with one error status. */
const startGrpcFault = async (
  kind: 'grpc-internal' | 'grpc-unavailable-retry-info' | 'grpc-resource-exhausted',
  port: number,
): Promise<FaultEndpoint> => {
  const server = new grpc.Server();
  let hits = 0;
  server.addService(rawTraceService, {
    Export(_call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) {
      hits += 1;
      callback(grpcErrorFor(kind));
    },
  });
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (error) =>
      error ? reject(error) : resolve(),
    ),
  );
  return {
    kind,
    port,
    hits: () => hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.forceShutdown();
        resolve();
      }),
  };
};

/** Starts the fault on `port` (a free one by default). `refused` holds nothing: the port is simply closed. */
export const startFaultEndpoint = async (kind: FaultKind, port?: number): Promise<FaultEndpoint> => {
  const chosen = port ?? (await freePort());
  switch (kind) {
    case 'refused':
      return { kind, port: chosen, hits: () => 0, close: async () => undefined };
    case 'hang':
    case 'garbage':
      return startSocketFault(kind, chosen);
    default:
      return startGrpcFault(kind, chosen);
  }
};
