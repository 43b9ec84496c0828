import { diag, ProxyTracerProvider, trace, type TracerProvider } from '@opentelemetry/api';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { TASK_ID_PROCESSOR, TaskIdSpanProcessor } from './task-context.js';

/**
 * What to add by hand when the one import cannot reach into the application's tracer provider: one
 * line, on stderr, at the default log level.
 */
export const TASK_ID_PROCESSOR_ADVICE =
  'mcpscope: spans that mcpscope does not create (LLM calls, HTTP) will not carry their task id: add ' +
  "`new TaskIdSpanProcessor()` from '@mcpscope/instrumentation' to your tracer provider's spanProcessors";

/** The span processors the OpenTelemetry JS SDK (1.x and 2.x) runs for every span, in order. */
const spanProcessorsOf = (provider: TracerProvider): SpanProcessor[] | undefined => {
  const active = (provider as { _activeSpanProcessor?: { _spanProcessors?: unknown } })._activeSpanProcessor;
  const processors = active?._spanProcessors;
  return Array.isArray(processors) && !Object.isFrozen(processors)
    ? (processors as SpanProcessor[])
    : undefined;
};

const isTaskIdProcessor = (processor: unknown): boolean =>
  processor !== null && typeof processor === 'object' && TASK_ID_PROCESSOR in processor;

/** The provider behind the global API: the SDK's, not the API's proxy. */
const registeredProvider = (): TracerProvider => {
  const provider = trace.getTracerProvider();
  return provider instanceof ProxyTracerProvider ? provider.getDelegate() : provider;
};

/**
 * Puts task-id propagation into a tracer provider the application registered before the one import
 * (its own NodeSDK or NodeTracerProvider). The SDK offers no public way to add a processor once built,
 * so this uses its processor list; where that is not there, it says what to add instead.
 * Returns whether the provider propagates task ids now.
 */
export const installTaskIdProcessor = (provider: TracerProvider = registeredProvider()): boolean => {
  const processors = spanProcessorsOf(provider);
  if (processors === undefined) {
    diag.warn(TASK_ID_PROCESSOR_ADVICE);
    return false;
  }
  // First, so processors after it see the attribute at start; once, whoever added it.
  if (!processors.some(isTaskIdProcessor)) processors.unshift(new TaskIdSpanProcessor());
  return true;
};
