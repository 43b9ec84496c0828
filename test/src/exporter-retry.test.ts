import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { expect, it } from 'vitest';
import { RetryingSpanExporter } from '@mcpscope/instrumentation';
import { freePort } from './support/processes.js';
import { startRecordingCollector } from './support/recording-collector.js';

const finishedSpans = () => {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory)] });
  provider.getTracer('retry-test').startSpan('tools/call plan_changes').end();
  return memory.getFinishedSpans();
};

it('a batch exported while the collector is down is delivered once it is back', async () => {
  const port = await freePort();
  const exporter = new RetryingSpanExporter(new OTLPTraceExporter({ url: `http://127.0.0.1:${port}` }), {
    initialBackoffMs: 100,
  });
  const result = new Promise<ExportResult>((resolve) => exporter.export(finishedSpans(), resolve));
  // Nothing listens yet: the first attempts fail with UNAVAILABLE. Then the collector starts.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const collector = await startRecordingCollector({ port });
  try {
    expect((await result).code).toBe(ExportResultCode.SUCCESS);
    expect(collector.spans.map((span) => span.name)).toEqual(['tools/call plan_changes']);
  } finally {
    await exporter.shutdown();
    await collector.close();
  }
});

it('gives up after the retry budget and reports the failure', async () => {
  const port = await freePort();
  const exporter = new RetryingSpanExporter(new OTLPTraceExporter({ url: `http://127.0.0.1:${port}` }), {
    initialBackoffMs: 50,
    maxElapsedMs: 1000,
  });
  const result = await new Promise<ExportResult>((resolve) => exporter.export(finishedSpans(), resolve));
  expect(result.code).toBe(ExportResultCode.FAILED);
  await exporter.shutdown();
});
