import { createRedactor } from '@mcpscope/instrumentation/redaction';
import type { SpanRecord, SpanSink } from '../../../../collector/src/model/span.js';
import { startOtlpGrpcReceiver } from '../../../../collector/src/receivers/otlp-grpc.js';

/** The collector's real OTLP/gRPC receiver on a chosen port, keeping what it commits in memory. */
export const startMemoryReceiver = async (port: number) => {
  const spans: SpanRecord[] = [];
  const sink: SpanSink = {
    async accept(batch) {
      spans.push(...batch);
    },
  };
  const receiver = await startOtlpGrpcReceiver({ host: '127.0.0.1', port, sink, redactor: createRedactor() });
  return { port: receiver.port, spans, close: () => receiver.close() };
};
