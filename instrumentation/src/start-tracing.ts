/**
 * What the one import (`register.ts`) does in an application's thread: starts OpenTelemetry tracing
 * for Node with the OTLP/gRPC trace exporter and the MCP instrumentation,
 * configured by the standard `OTEL_*` variables: the Node tracer provider for OTLP traces, the full
 * Node SDK (loaded on demand) when the variables ask for more. When the process already registered
 * a tracer provider it adds the instrumentation and task-id propagation to it (or says on stderr what
 * to add). Writes nothing to stdout: a stdio MCP server's stdout is its protocol channel.
 */
import { createRequire } from 'node:module';
import { diag, ProxyTracerProvider, trace, type TextMapPropagator } from '@opentelemetry/api';
import {
  CompositePropagator,
  setGlobalErrorHandler,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from '@opentelemetry/core';
import type * as OtlpGrpcTraceExporterModule from '@opentelemetry/exporter-trace-otlp-grpc';
import type * as OtlpJsonTraceExporterModule from '@opentelemetry/exporter-trace-otlp-http';
import type * as OtlpProtobufTraceExporterModule from '@opentelemetry/exporter-trace-otlp-proto';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { defaultResource, detectResources, envDetector, hostDetector } from '@opentelemetry/resources';
import type * as NodeSdkModule from '@opentelemetry/sdk-node';
import {
  BatchSpanProcessor,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { shortenOtlpGrpcReconnectBackoff } from './grpc-reconnect.js';
import { McpInstrumentation } from './instrumentation.js';
import { LazySpanExporter } from './lazy-span-exporter.js';
import { RetryingSpanExporter, SpansDroppedError } from './retrying-span-exporter.js';
import { createStderrDiagLogger, diagLogLevelFromEnv } from './stderr-diag-logger.js';
import { StderrSpanExporter } from './stderr-span-exporter.js';
import { TaskIdSpanProcessor } from './task-context.js';
import { installTaskIdProcessor } from './task-id-installation.js';
import type { McpInstrumentationConfig } from './types.js';

// Exporters and the full Node SDK are loaded only when the configuration asks for them: each costs
// start-up time, and the Node SDK alone loads every exporter it knows of.
const loadModule = createRequire(__filename);

/**
 * A package only some configurations need, an optional peer dependency so the usual install stays
 * small. Missing, the error says which variable asked for it and what to install.
 */
const loadOptionalPeer = (name: string, askedBy: string): unknown => {
  try {
    return loadModule(name);
  } catch (error) {
    const { code, message } = error as { code?: unknown; message?: unknown };
    if (code === 'MODULE_NOT_FOUND' && typeof message === 'string' && message.includes(`'${name}'`)) {
      throw new Error(`${askedBy} needs ${name}, which is not installed: npm install ${name}`);
    }
    throw error;
  }
};

const STARTED = Symbol.for('mcpscope.register.started');
const globals = globalThis as unknown as { [STARTED]?: Promise<void> };

const configFromEnv = (env: NodeJS.ProcessEnv): McpInstrumentationConfig => ({
  captureArguments: env.MCPSCOPE_CAPTURE_ARGUMENTS === 'off' ? 'off' : 'redacted',
  notifications: env.MCPSCOPE_NOTIFICATIONS !== 'off',
  observeHttpAuth: env.MCPSCOPE_OBSERVE_HTTP_AUTH !== 'off',
  esmLoaderHook: env.MCPSCOPE_ESM_LOADER_HOOK === 'on',
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

/** A comma-separated `OTEL_*` list, as the SDK reads it: trimmed, empty entries dropped. */
const listFromEnv = (value: string | undefined): string[] =>
  (value ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');

/** Where the OTLP/gRPC trace exporter sends, as it reads it from the environment, for diagnostics. */
const otlpGrpcEndpoint = (env: NodeJS.ProcessEnv): string =>
  env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() ||
  env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() ||
  'http://localhost:4317';

/** `OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL`, gRPC unless told otherwise. */
const otlpProtocol = (env: NodeJS.ProcessEnv): string =>
  (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL)?.trim() || 'grpc';

const OTLP_PROTOCOLS = new Set(['grpc', 'http/protobuf', 'http/json']);
/** Propagators built here; any other name (b3, jaeger, …) is the Node SDK's to resolve. */
const W3C_PROPAGATORS = new Set(['tracecontext', 'baggage', 'none']);

/** Trace exporters built here; any other name (zipkin, …) is the Node SDK's to resolve. */
const OWN_TRACE_EXPORTERS = new Set(['otlp', 'console', 'none']);

/** `OTEL_TRACES_EXPORTER`, `otlp` when unset. */
const traceExporterNames = (env: NodeJS.ProcessEnv): string[] => {
  const names = [...new Set(listFromEnv(env.OTEL_TRACES_EXPORTER))];
  return names.length === 0 ? ['otlp'] : names;
};

/**
 * What in the configuration asks for more than OTLP traces with W3C propagation (another trace
 * exporter, metrics or logs, another propagator), as `VARIABLE=value`; undefined when nothing does.
 * Only then is the full Node SDK loaded.
 */
const fullNodeSdkReason = (env: NodeJS.ProcessEnv): string | undefined => {
  const exporters = traceExporterNames(env);
  if (!exporters.every((name) => OWN_TRACE_EXPORTERS.has(name)))
    return `OTEL_TRACES_EXPORTER=${exporters.join(',')}`;
  if (!OTLP_PROTOCOLS.has(otlpProtocol(env))) return `OTEL_EXPORTER_OTLP_PROTOCOL=${otlpProtocol(env)}`;
  for (const name of ['OTEL_METRICS_EXPORTER', 'OTEL_LOGS_EXPORTER'] as const) {
    const signalExporters = listFromEnv(env[name]);
    if (signalExporters.length > 0 && !signalExporters.includes('none')) return `${name}=${env[name]}`;
  }
  const propagators = listFromEnv(env.OTEL_PROPAGATORS);
  if (propagators.some((name) => !W3C_PROPAGATORS.has(name)))
    return `OTEL_PROPAGATORS=${env.OTEL_PROPAGATORS}`;
  return undefined;
};

/** The OTLP exporter for `OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL`, gRPC unless told otherwise. */
const otlpTraceExporterFromEnv = (env: NodeJS.ProcessEnv): SpanExporter | undefined => {
  const protocol = otlpProtocol(env);
  switch (protocol) {
    case 'grpc': {
      // Loaded with the first batch, off start-up (see LazySpanExporter).
      const otlpGrpc = new LazySpanExporter(() => {
        const { OTLPTraceExporter } = loadModule(
          '@opentelemetry/exporter-trace-otlp-grpc',
        ) as typeof OtlpGrpcTraceExporterModule;
        shortenOtlpGrpcReconnectBackoff();
        return new OTLPTraceExporter(exportTimeout(env));
      });
      // This exporter reports every gRPC error as final: retry what the collector could not take.
      return new RetryingSpanExporter(otlpGrpc, { endpoint: otlpGrpcEndpoint(env) });
    }
    case 'http/protobuf': {
      const { OTLPTraceExporter } = loadOptionalPeer(
        '@opentelemetry/exporter-trace-otlp-proto',
        'OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf',
      ) as typeof OtlpProtobufTraceExporterModule;
      return new OTLPTraceExporter(exportTimeout(env));
    }
    case 'http/json': {
      const { OTLPTraceExporter } = loadOptionalPeer(
        '@opentelemetry/exporter-trace-otlp-http',
        'OTEL_EXPORTER_OTLP_PROTOCOL=http/json',
      ) as typeof OtlpJsonTraceExporterModule;
      return new OTLPTraceExporter(exportTimeout(env));
    }
    default:
      diag.warn(`mcpscope: unknown OTLP protocol "${protocol}"; the Node SDK chooses the exporter`);
      return undefined;
  }
};

interface TraceExporters {
  otlp?: SpanExporter;
  console?: SpanExporter;
}

/** Task ids on every span, OTLP batched, the console span by span as the SDK does it. */
const spanProcessorsFor = ({ otlp, console }: TraceExporters): SpanProcessor[] => [
  new TaskIdSpanProcessor(),
  ...(otlp ? [new BatchSpanProcessor(otlp)] : []),
  ...(console ? [new SimpleSpanProcessor(console)] : []),
];

/**
 * The trace exporters `OTEL_TRACES_EXPORTER` names (`otlp`, `console` on stderr, `none`), or undefined
 * to let the Node SDK follow it when it names another exporter.
 */
const traceExportersFromEnv = (env: NodeJS.ProcessEnv): TraceExporters | undefined => {
  const names = traceExporterNames(env);
  if (!names.every((name) => OWN_TRACE_EXPORTERS.has(name))) return undefined;
  if (names.includes('none')) return {};
  const otlp = names.includes('otlp') ? otlpTraceExporterFromEnv(env) : undefined;
  if (names.includes('otlp') && otlp === undefined) return undefined;
  return { otlp, console: names.includes('console') ? new StderrSpanExporter() : undefined };
};

/**
 * The W3C propagators `OTEL_PROPAGATORS` names, as the Node SDK builds them: undefined for the
 * default (trace context and baggage), null for none.
 */
const w3cPropagatorFromEnv = (env: NodeJS.ProcessEnv): TextMapPropagator | null | undefined => {
  const names = [...new Set(listFromEnv(env.OTEL_PROPAGATORS))];
  if (names.length === 0) return undefined;
  if (names.includes('none')) return null;
  const propagators = names.map((name) =>
    name === 'tracecontext' ? new W3CTraceContextPropagator() : new W3CBaggagePropagator(),
  );
  return propagators.length === 1 ? (propagators[0] ?? null) : new CompositePropagator({ propagators });
};

/**
 * The environment the Node SDK is built and started in. It installs a console logger when
 * OTEL_LOG_LEVEL is set, and console.info writes to stdout, a stdio server's protocol channel: the
 * variable is hidden (the level was already given to mcpscope's stderr logger). Its OTLP exporters
 * default to HTTP; mcpscope's documented default is gRPC, for every signal alike.
 */
const inSdkEnvironment = <T>(env: NodeJS.ProcessEnv, build: () => T): T => {
  const level = env.OTEL_LOG_LEVEL;
  const defaultProtocol = env.OTEL_EXPORTER_OTLP_PROTOCOL === undefined;
  delete env.OTEL_LOG_LEVEL;
  if (defaultProtocol) env.OTEL_EXPORTER_OTLP_PROTOCOL = 'grpc';
  try {
    return build();
  } finally {
    if (level !== undefined) env.OTEL_LOG_LEVEL = level;
    if (defaultProtocol) delete env.OTEL_EXPORTER_OTLP_PROTOCOL;
  }
};

/** Longest the process waits at exit for batched spans to reach a collector that may be down. */
const EXIT_FLUSH_BUDGET_MS = 5_000;

const flushOnExit = (sdk: { shutdown(): Promise<void> }, exporter: SpanExporter | undefined): void => {
  let flushed = false;
  let shutdown: Promise<void> | undefined;
  const stop = () => {
    if (exporter instanceof RetryingSpanExporter) exporter.prepareForExit();
    if (shutdown) return shutdown;
    let budget: NodeJS.Timeout | undefined;
    shutdown = Promise.race([
      sdk
        .shutdown()
        .then(() => {
          flushed = true;
        })
        .catch((error: unknown) => {
          if (!(error instanceof SpansDroppedError)) diag.error('mcpscope: shutdown failed', error);
        }),
      // Ref'd: the process lives on for the flush, at most this long.
      new Promise<void>((resolve) => {
        budget = setTimeout(resolve, EXIT_FLUSH_BUDGET_MS);
      }),
    ]).finally(() => {
      // Settled: the budget timer must not hold a finished process for the rest of it.
      clearTimeout(budget);
    });
    return shutdown;
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

// No process detector: command lines can carry credentials.
const resourceDetectors = [envDetector, hostDetector];

/**
 * OTLP traces only, the usual case: the Node tracer provider with the pieces the Node SDK would give
 * it (resource from OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES and the host, sampler and limits
 * from OTEL_*, W3C propagation, async context), without loading what the configuration does not use.
 */
const startTracing = (
  env: NodeJS.ProcessEnv,
  instrumentation: McpInstrumentation,
  exporters: TraceExporters,
): { shutdown(): Promise<void> } => {
  const provider = new NodeTracerProvider({
    resource: defaultResource().merge(detectResources({ detectors: resourceDetectors })),
    spanProcessors: spanProcessorsFor(exporters),
  });
  registerInstrumentations({ instrumentations: [instrumentation] });
  provider.register({ propagator: w3cPropagatorFromEnv(env) });
  return provider;
};

/** Anything else the OTEL_* variables ask for (other exporters, metrics, logs, propagators): the full Node SDK. */
const startNodeSdk = (
  env: NodeJS.ProcessEnv,
  instrumentation: McpInstrumentation,
  exporters: TraceExporters | undefined,
  reason: string,
): { shutdown(): Promise<void> } => {
  const { NodeSDK } = loadOptionalPeer('@opentelemetry/sdk-node', reason) as typeof NodeSdkModule;
  // Exporters read the environment when the SDK starts: both steps run in it.
  const sdk = inSdkEnvironment(env, () => {
    const started = new NodeSDK({
      ...(exporters ? { spanProcessors: spanProcessorsFor(exporters) } : {}),
      // mcpscope exports traces; metrics and logs only when the application asks for them.
      ...(env.OTEL_METRICS_EXPORTER ? {} : { metricReaders: [] }),
      ...(env.OTEL_LOGS_EXPORTER ? {} : { logRecordProcessors: [] }),
      instrumentations: [instrumentation],
      resourceDetectors,
    });
    started.start();
    return started;
  });
  return sdk;
};

/**
 * The SDK's own errors, one diagnostic line each: its default handler writes the error with its
 * stack. A batch the exporter gave up on was already reported, with its endpoint and what to check.
 */
const reportSdkError = (error: unknown): void => {
  if (error instanceof SpansDroppedError) return;
  diag.error('mcpscope: OpenTelemetry SDK error', error);
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
      installTaskIdProcessor();
      registerInstrumentations({ instrumentations: [instrumentation] });
      return instrumentation.ready;
    }
    setGlobalErrorHandler(reportSdkError);
    const exporters = traceExportersFromEnv(env);
    const fullSdkReason = fullNodeSdkReason(env);
    const sdk =
      exporters && fullSdkReason === undefined
        ? startTracing(env, instrumentation, exporters)
        : startNodeSdk(env, instrumentation, exporters, fullSdkReason ?? `the OTEL_* configuration`);
    flushOnExit(sdk, exporters?.otlp);
  } catch (error) {
    diag.error('mcpscope: could not start OpenTelemetry; the application runs uninstrumented', error);
  }
  return instrumentation.ready;
};

/** Settles once instrumentation is in place (ESM copies of the SDK patched). Never rejects. */
export const ready: Promise<void> = (globals[STARTED] ??= start());
