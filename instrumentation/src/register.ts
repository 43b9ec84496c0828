/**
 * The one import: `import '@mcpscope/instrumentation/register'` (ESM), `require(...)` (CommonJS) or
 * `node --import @mcpscope/instrumentation/register app.js`.
 *
 * Starts the OpenTelemetry Node SDK with the OTLP/gRPC trace exporter and the MCP instrumentation,
 * configured by the standard `OTEL_*` variables; when the process already registered a tracer
 * provider it only adds the instrumentation. Writes nothing to stdout: a stdio MCP server's stdout
 * is its protocol channel.
 */
import { diag, ProxyTracerProvider, trace } from '@opentelemetry/api';
import { OTLPTraceExporter as OtlpGrpcTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as OtlpJsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtobufTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { envDetector, hostDetector } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { McpInstrumentation } from './instrumentation.js';
import { RetryingSpanExporter } from './retrying-span-exporter.js';
import { createStderrDiagLogger, diagLogLevelFromEnv } from './stderr-diag-logger.js';
import { TaskIdSpanProcessor } from './task-context.js';
import type { McpInstrumentationConfig } from './types.js';

const STARTED = Symbol.for('mcpscope.register.started');
const globals = globalThis as unknown as { [STARTED]?: Promise<void> };

const configFromEnv = (env: NodeJS.ProcessEnv): McpInstrumentationConfig => ({
  captureArguments: env.MCPSCOPE_CAPTURE_ARGUMENTS === 'off' ? 'off' : 'redacted',
  notifications: env.MCPSCOPE_NOTIFICATIONS !== 'off',
  observeHttpAuth: env.MCPSCOPE_OBSERVE_HTTP_AUTH !== 'off',
});

const hasRegisteredTracerProvider = (): boolean => {
  const provider = trace.getTracerProvider();
  const delegate = provider instanceof ProxyTracerProvider ? provider.getDelegate() : provider;
  return delegate.constructor.name !== 'NoopTracerProvider';
};

/**
 * 5 s per export attempt unless OTEL_EXPORTER_OTLP_(TRACES_)TIMEOUT says otherwise (the SDK default
 * is 10 s): while an attempt hangs, a finished process cannot exit.
 */
const exportTimeout = (env: NodeJS.ProcessEnv): { timeoutMillis?: number } =>
  env.OTEL_EXPORTER_OTLP_TRACES_TIMEOUT || env.OTEL_EXPORTER_OTLP_TIMEOUT ? {} : { timeoutMillis: 5_000 };

/**
 * The OTLP exporter for `OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL` (gRPC unless told otherwise), or
 * undefined to let the Node SDK follow `OTEL_TRACES_EXPORTER` when it names another exporter.
 */
const traceExporterFromEnv = (env: NodeJS.ProcessEnv): SpanExporter | undefined => {
  const exporters = env.OTEL_TRACES_EXPORTER?.trim();
  if (exporters && exporters !== 'otlp') return undefined;
  const protocol =
    (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL)?.trim() || 'grpc';
  switch (protocol) {
    case 'grpc':
      // This exporter reports every gRPC error as final: retry what the collector could not take.
      return new RetryingSpanExporter(new OtlpGrpcTraceExporter(exportTimeout(env)));
    case 'http/protobuf':
      return new OtlpProtobufTraceExporter(exportTimeout(env));
    case 'http/json':
      return new OtlpJsonTraceExporter(exportTimeout(env));
    default:
      diag.warn(`mcpscope: unknown OTLP protocol "${protocol}"; the Node SDK chooses the exporter`);
      return undefined;
  }
};

/**
 * NodeSDK installs a console logger when OTEL_LOG_LEVEL is set, and console.info writes to stdout,
 * a stdio server's protocol channel. The variable is hidden while the SDK is built; the level was
 * already given to mcpscope's stderr logger.
 */
const withoutConsoleDiagnostics = <T>(env: NodeJS.ProcessEnv, build: () => T): T => {
  const level = env.OTEL_LOG_LEVEL;
  delete env.OTEL_LOG_LEVEL;
  try {
    return build();
  } finally {
    if (level !== undefined) env.OTEL_LOG_LEVEL = level;
  }
};

/** Longest the process waits at exit for batched spans to reach a collector that may be down. */
const EXIT_FLUSH_BUDGET_MS = 5_000;

const flushOnExit = (sdk: NodeSDK, exporter: SpanExporter | undefined): void => {
  let flushed = false;
  let shutdown: Promise<void> | undefined;
  const stop = () => {
    if (exporter instanceof RetryingSpanExporter) exporter.prepareForExit();
    return (shutdown ??= Promise.race([
      sdk
        .shutdown()
        .then(() => {
          flushed = true;
        })
        .catch((error: unknown) => diag.error('mcpscope: shutdown failed', error)),
      // Ref'd: the process lives on for the flush, at most this long.
      new Promise<void>((resolve) => setTimeout(resolve, EXIT_FLUSH_BUDGET_MS)),
    ]));
  };
  // The event loop emptied: flush what is batched, then let the process end even if the collector
  // never answers (process.exit keeps process.exitCode).
  process.once('beforeExit', () => {
    void stop().then(() => {
      if (!flushed) process.exit();
    });
  });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    const onSignal = () => {
      // When the application handles the signal itself, flush and leave the exit to it.
      const othersListen = process.listenerCount(signal) > 0;
      void stop().finally(() => {
        if (!othersListen) process.kill(process.pid, signal);
      });
    };
    process.once(signal, onSignal);
  }
};

const start = (): Promise<void> => {
  const env = process.env;
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return Promise.resolve();
  const logLevel = diagLogLevelFromEnv(env.OTEL_LOG_LEVEL);
  const logger = createStderrDiagLogger();
  diag.setLogger(logger, { logLevel, suppressOverrideMessage: true });

  const instrumentation = new McpInstrumentation(configFromEnv(env));
  try {
    if (hasRegisteredTracerProvider()) {
      registerInstrumentations({ instrumentations: [instrumentation] });
      return instrumentation.ready;
    }
    const exporter = traceExporterFromEnv(env);
    const spanProcessors: SpanProcessor[] = [new TaskIdSpanProcessor()];
    if (exporter) spanProcessors.push(new BatchSpanProcessor(exporter));
    const sdk = withoutConsoleDiagnostics(
      env,
      () =>
        new NodeSDK({
          ...(exporter ? { spanProcessors } : {}),
          // mcpscope exports traces; metrics and logs only when the application asks for them.
          ...(env.OTEL_METRICS_EXPORTER ? {} : { metricReaders: [] }),
          ...(env.OTEL_LOGS_EXPORTER ? {} : { logRecordProcessors: [] }),
          instrumentations: [instrumentation],
          // No process detector: command lines can carry credentials.
          resourceDetectors: [envDetector, hostDetector],
        }),
    );
    sdk.start();
    flushOnExit(sdk, exporter);
  } catch (error) {
    diag.error('mcpscope: could not start OpenTelemetry; the application runs uninstrumented', error);
  }
  return instrumentation.ready;
};

/** Settles once instrumentation is in place (ESM copies of the SDK patched). Never rejects. */
export const ready: Promise<void> = (globals[STARTED] ??= start());
