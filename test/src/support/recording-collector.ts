import type { SpanRecord, SpanSink } from '../../../collector/src/model/span.js';
import { startOtlpGrpcReceiver } from '../../../collector/src/receivers/otlp-grpc.js';
import { createRedactor } from '@mcpscope/instrumentation/redaction';
import { eventually } from './processes.js';

/**
 * The collector's real OTLP/gRPC receiver with a sink that keeps what arrives in memory: for tests
 * about what a process exports, without storage in the way.
 */
export const startRecordingCollector = async ({ port = 0 }: { port?: number } = {}) => {
  const spans: SpanRecord[] = [];
  const sink: SpanSink = {
    async accept(batch) {
      spans.push(...batch);
    },
  };
  const receiver = await startOtlpGrpcReceiver({
    host: '127.0.0.1',
    port,
    sink,
    redactor: createRedactor(),
  });
  return {
    endpoint: `http://127.0.0.1:${receiver.port}`,
    spans,
    /** Waits until a span matching `predicate` arrived. */
    waitForSpan: (predicate: (span: SpanRecord) => boolean, what: string) =>
      eventually(() => spans.find(predicate), { what, timeoutMs: 20_000 }),
    close: () => receiver.close(),
  };
};
