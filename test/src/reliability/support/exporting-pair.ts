import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { context, diag, DiagLogLevel, propagation, trace, type DiagLogger } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { Metadata } from '@grpc/grpc-js';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { McpInstrumentation } from '../../../../instrumentation/src/instrumentation.js';
import { RetryingSpanExporter } from '../../../../instrumentation/src/retrying-span-exporter.js';
import { createStderrDiagLogger } from '../../../../instrumentation/src/stderr-diag-logger.js';

/** Reads the SDK's own self-observability metrics on demand. */
class OnDemandMetricReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

const PROCESSED_METRIC = 'otel.sdk.processor.span.processed';
const QUEUE_SIZE_METRIC = 'otel.sdk.processor.span.queue.size';

export interface SpanAccounting {
  /** Spans the batch processor handed to the exporter and saw succeed. */
  exported: number;
  /** Spans refused because the queue was full (`error.type=queue_full`). */
  droppedQueueFull: number;
  /** Spans in exports that failed, by error type. */
  failedExport: number;
  /** Spans waiting in the queue now. */
  queueSize: number;
  /** Largest queue size observed at any reading so far. */
  maxQueueSize: number;
}

export interface DiagnosticLine {
  at: number;
  text: string;
}

/** Makes `global.gc` reachable without a command-line flag, for heap readings that mean something. */
export const collectGarbage = (): void => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  gc();
};

export const heapUsedAfterGc = (): number => {
  collectGarbage();
  return process.memoryUsage().heapUsed;
};

export interface ExportingPairOptions {
  /** The OTLP/gRPC endpoint, e.g. `http://127.0.0.1:4317`. */
  endpoint: string;
  maxQueueSize?: number;
  maxExportBatchSize?: number;
  scheduledDelayMillis?: number;
  /** Per-export timeout of the OTLP exporter. */
  exportTimeoutMillis?: number;
  /** Rate-limit interval of the stderr diagnostics. */
  diagnosticIntervalMs?: number;
  /** Also write diagnostics to this process's stderr (they are always kept in `diagnostics`). */
  echoDiagnostics?: boolean;
  /** gRPC metadata sent with every export, e.g. `{ authorization: 'Bearer …' }`. */
  headers?: Record<string, string>;
  /** Wrap the exporter in mcpscope's retrying exporter, as the one import does (default true). */
  retrying?: boolean;
  /** How long the retrying exporter keeps at one batch; the one import's default when omitted. */
  retryMaxElapsedMs?: number;
}

/**
 * An instrumented McpServer and Client in one process, joined by `InMemoryTransport`, whose spans
 * leave through the real OTLP/gRPC exporter (wrapped in mcpscope's retrying exporter) and a
 * BatchSpanProcessor, as the one import sets them up. Diagnostics go through mcpscope's rate-limited stderr logger; every line it writes is kept.
 */
export const startExportingPair = async ({
  endpoint,
  maxQueueSize = 512,
  maxExportBatchSize = 128,
  scheduledDelayMillis = 200,
  exportTimeoutMillis = 2_000,
  diagnosticIntervalMs = 1_000,
  echoDiagnostics = true,
  headers = {},
  retrying = true,
  retryMaxElapsedMs,
}: ExportingPairOptions) => {
  const diagnostics: DiagnosticLine[] = [];
  const stderrLogger: DiagLogger = createStderrDiagLogger({
    intervalMs: diagnosticIntervalMs,
    write: (text) => {
      diagnostics.push({ at: Date.now(), text });
      if (echoDiagnostics) process.stderr.write(text);
    },
  });
  diag.setLogger(stderrLogger, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });

  const metricReader = new OnDemandMetricReader();
  const meterProvider = new MeterProvider({ readers: [metricReader] });
  const metadata = new Metadata();
  for (const [key, value] of Object.entries(headers)) metadata.set(key, value);
  const otlpExporter = new OTLPTraceExporter({ url: endpoint, timeoutMillis: exportTimeoutMillis, metadata });
  const exporter = retrying
    ? new RetryingSpanExporter(
        otlpExporter,
        retryMaxElapsedMs === undefined ? {} : { maxElapsedMs: retryMaxElapsedMs },
      )
    : otlpExporter;
  const processor = new BatchSpanProcessor(exporter, {
    maxQueueSize,
    maxExportBatchSize,
    scheduledDelayMillis,
    // The SDK default, which the one import keeps: long enough for the retrying exporter to finish.
    exportTimeoutMillis: 30_000,
    selfObsMeterProvider: meterProvider,
  } as ConstructorParameters<typeof BatchSpanProcessor>[1]);
  let spansEnded = 0;
  const endedCounter: SpanProcessor = {
    onStart: () => undefined,
    onEnd: () => void (spansEnded += 1),
    forceFlush: async () => undefined,
    shutdown: async () => undefined,
  };
  const provider = new BasicTracerProvider({ spanProcessors: [endedCounter, processor] });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  trace.setGlobalTracerProvider(provider);
  propagation.setGlobalPropagator(
    new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
  );
  const instrumentation = new McpInstrumentation({});
  instrumentation.setTracerProvider(provider);
  await instrumentation.ready;

  const server = new McpServer({ name: 'fault-target', version: '1.0.0' });
  server.registerTool(
    'list_workspaces',
    { inputSchema: { filter: z.string(), apiKey: z.string().optional() } },
    async ({ filter }) => ({
      content: [{ type: 'text', text: `workspaces matching ${filter}: prod, staging` }],
    }),
  );
  const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'fault-agent', version: '1.0.0' });
  await server.connect(serverTransport);
  await client.connect(clientTransport);

  let maxQueueSeen = 0;
  const accounting = async (): Promise<SpanAccounting> => {
    const { resourceMetrics } = await metricReader.collect();
    const result: SpanAccounting = {
      exported: 0,
      droppedQueueFull: 0,
      failedExport: 0,
      queueSize: 0,
      maxQueueSize: 0,
    };
    for (const scope of resourceMetrics.scopeMetrics) {
      for (const metric of scope.metrics) {
        for (const point of metric.dataPoints) {
          const value = typeof point.value === 'number' ? point.value : 0;
          if (metric.descriptor.name === QUEUE_SIZE_METRIC)
            result.queueSize = Math.max(result.queueSize, value);
          if (metric.descriptor.name !== PROCESSED_METRIC) continue;
          const errorType = point.attributes['error.type'];
          if (errorType === undefined) result.exported += value;
          else if (errorType === 'queue_full') result.droppedQueueFull += value;
          else result.failedExport += value;
        }
      }
    }
    maxQueueSeen = Math.max(maxQueueSeen, result.queueSize);
    return { ...result, maxQueueSize: maxQueueSeen };
  };

  return {
    client,
    diagnostics,
    /** Spans the instrumentation ended so far (handed to the batch processor). */
    spansEnded: () => spansEnded,
    accounting,
    /** One tool call; resolves with its text, rejects if the call failed in any way. */
    async callTool(filter: string): Promise<string> {
      const result = await client.callTool({ name: 'list_workspaces', arguments: { filter } });
      const first = (result.content as Array<{ type: string; text?: string }>)[0];
      if (result.isError || first?.type !== 'text' || first.text === undefined) {
        throw new Error(`tool call failed: ${JSON.stringify(result)}`);
      }
      return first.text;
    },
    forceFlush: () => provider.forceFlush(),
    async shutDown() {
      await client.close();
      await server.close();
      instrumentation.disable();
      await provider.shutdown().catch(() => undefined);
      await meterProvider.shutdown().catch(() => undefined);
      trace.disable();
      context.disable();
      propagation.disable();
      diag.disable();
    },
  };
};

export type ExportingPair = Awaited<ReturnType<typeof startExportingPair>>;
