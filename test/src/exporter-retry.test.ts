import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { expect, it } from 'vitest';
import {
  RetryingSpanExporter,
  shortenOtlpGrpcReconnectBackoff,
  SpansDroppedError,
} from '@mcpscope/instrumentation';
import { freePort } from './support/processes.js';
import { startRecordingCollector } from './support/recording-collector.js';

const silentLogger: DiagLogger = {
  error: () => {},
  warn: () => {},
  info: () => {},
  debug: () => {},
  verbose: () => {},
};

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
  const url = `http://127.0.0.1:${port}`;
  const exporter = new RetryingSpanExporter(new OTLPTraceExporter({ url }), {
    initialBackoffMs: 50,
    maxElapsedMs: 1000,
    endpoint: url,
  });
  const warnings: string[] = [];
  diag.setLogger(
    { ...silentLogger, warn: (message: string) => warnings.push(message) },
    { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
  );
  try {
    const result = await new Promise<ExportResult>((resolve) => exporter.export(finishedSpans(), resolve));
    expect(result.code).toBe(ExportResultCode.FAILED);
    // The collector still counts as down: the next batch gets one attempt, and the drops add up.
    const started = Date.now();
    await new Promise<ExportResult>((resolve) => exporter.export(finishedSpans(), resolve));
    expect(Date.now() - started).toBeLessThan(900);
    // Each names the endpoint and what to check; the batch processor gets an error with nothing left to say.
    const hint =
      'nothing listens there; is the collector running (`npx mcpscope collector`), and does OTEL_EXPORTER_OTLP_ENDPOINT name its gRPC port?';
    expect(warnings).toEqual([
      `mcpscope: 1 spans could not be delivered to the collector at ${url} and are dropped (1 since start): ${hint}`,
      `mcpscope: 1 spans could not be delivered to the collector at ${url} and are dropped (2 since start): ${hint}`,
    ]);
    expect(result.error).toBeInstanceOf(SpansDroppedError);
  } finally {
    diag.disable();
    await exporter.shutdown();
  }
});

it('reaches a collector within seconds of its return after a long outage', { timeout: 90_000 }, async () => {
  // As the one import does: without it, gRPC's reconnect backoff had grown to ~12 s after 30 s down.
  shortenOtlpGrpcReconnectBackoff();
  const port = await freePort();
  const exporter = new OTLPTraceExporter({ url: `http://127.0.0.1:${port}` });
  const exportOnce = () => new Promise<ExportResult>((resolve) => exporter.export(finishedSpans(), resolve));
  const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const outageStarted = Date.now();
  while (Date.now() - outageStarted < 30_000) {
    expect((await exportOnce()).code).toBe(ExportResultCode.FAILED);
    await pause(1000);
  }
  const collector = await startRecordingCollector({ port });
  const back = Date.now();
  try {
    while ((await exportOnce()).code !== ExportResultCode.SUCCESS) await pause(250);
    // The reconnect backoff is capped at 5 s, with gRPC's 20% jitter.
    expect(Date.now() - back).toBeLessThan(6_500);
  } finally {
    await exporter.shutdown();
    await collector.close();
  }
});
