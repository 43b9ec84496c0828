import { inspect } from 'node:util';
import { ExportResultCode, hrTimeToMicroseconds, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';

/**
 * `OTEL_TRACES_EXPORTER=console`, written to stderr: the SDK's console exporter prints to stdout,
 * which is a stdio MCP server's protocol channel. Same fields as the SDK's, one span at a time.
 */
export class StderrSpanExporter implements SpanExporter {
  constructor(private readonly write: (text: string) => void = (text) => void process.stderr.write(text)) {}

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    for (const span of spans) {
      const context = span.spanContext();
      const info = {
        resource: { attributes: span.resource.attributes },
        instrumentationScope: span.instrumentationScope,
        traceId: context.traceId,
        parentSpanContext: span.parentSpanContext,
        name: span.name,
        id: context.spanId,
        kind: span.kind,
        timestamp: hrTimeToMicroseconds(span.startTime),
        duration: hrTimeToMicroseconds(span.duration),
        attributes: span.attributes,
        status: span.status,
        events: span.events,
        links: span.links,
      };
      this.write(`${inspect(info, { depth: 3, breakLength: 120 })}\n`);
    }
    resultCallback({ code: ExportResultCode.SUCCESS });
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
}
