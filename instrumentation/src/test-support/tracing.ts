import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { McpInstrumentation } from '../instrumentation.js';
import { TaskIdSpanProcessor } from '../task-context.js';
import type { McpInstrumentationConfig } from '../types.js';

/** A real tracer provider with an in-memory exporter, registered globally, and the instrumentation on. */
export const setUpTracing = async (config: McpInstrumentationConfig = {}) => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    spanProcessors: [new TaskIdSpanProcessor(), new SimpleSpanProcessor(exporter)],
  });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  trace.setGlobalTracerProvider(provider);
  propagation.setGlobalPropagator(
    new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
  );
  const instrumentation = new McpInstrumentation(config);
  instrumentation.setTracerProvider(provider);
  await instrumentation.ready;
  return {
    exporter,
    provider,
    instrumentation,
    spans: (): ReadableSpan[] => exporter.getFinishedSpans(),
    async tearDown() {
      instrumentation.disable();
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
};

export const spansNamed = (spans: ReadableSpan[], name: string) => spans.filter((span) => span.name === name);

/** Everything a span exports as text: name, status, attributes, events, so a test can grep for leaks. */
export const exportedText = (spans: ReadableSpan[]): string =>
  JSON.stringify(
    spans.map((span) => ({
      name: span.name,
      status: span.status,
      attributes: span.attributes,
      events: span.events,
      resource: span.resource.attributes,
    })),
  );
