import { diag } from '@opentelemetry/api';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * gRPC's default reconnect backoff grows to two minutes: after a collector restart, a long-running
 * server would keep failing exports (and dropping spans) for up to that long although the collector
 * is back. The OTLP/gRPC exporter offers no channel options, so the client class it builds for its
 * connection is given shorter bounds; nothing else using gRPC in the process is touched.
 */
export const RECONNECT_CHANNEL_OPTIONS = {
  'grpc.initial_reconnect_backoff_ms': 500,
  'grpc.max_reconnect_backoff_ms': 5_000,
} as const;

const PATCHED = Symbol.for('mcpscope.grpc.reconnect.patched');

type ClientConstructor = new (address: string, credentials: unknown, options?: object) => object;
interface ClientConstructorModule {
  createServiceClientConstructor: (path: string, name: string) => ClientConstructor;
  [PATCHED]?: true;
}

/** Applies {@link RECONNECT_CHANNEL_OPTIONS} to the OTLP/gRPC exporter resolvable from `fromFile`. */
export const shortenOtlpGrpcReconnectBackoff = (fromFile: string = __filename): void => {
  try {
    const requireFromExporter = createRequire(
      createRequire(fromFile).resolve('@opentelemetry/exporter-trace-otlp-grpc'),
    );
    const exporterBase = dirname(requireFromExporter.resolve('@opentelemetry/otlp-grpc-exporter-base'));
    const module = requireFromExporter(
      join(exporterBase, 'create-service-client-constructor.js'),
    ) as ClientConstructorModule;
    if (module[PATCHED] || typeof module.createServiceClientConstructor !== 'function') return;
    const original = module.createServiceClientConstructor;
    module.createServiceClientConstructor = function createServiceClientConstructor(path, name) {
      const Client = original(path, name);
      return class extends Client {
        constructor(address: string, credentials: unknown, options: object = {}) {
          super(address, credentials, { ...RECONNECT_CHANNEL_OPTIONS, ...options });
        }
      };
    };
    Object.defineProperty(module, PATCHED, { value: true });
  } catch (error) {
    // Another exporter layout: reconnects keep gRPC's default backoff.
    diag.debug('mcpscope: could not shorten the OTLP/gRPC reconnect backoff', error);
  }
};
