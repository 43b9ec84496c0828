import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';

/**
 * An exporter built when the first batch is exported, not at start-up: the OTLP/gRPC exporter and
 * gRPC itself take longer to load than everything else the one import needs, and the first batch
 * leaves seconds after the first span.
 */
export class LazySpanExporter implements SpanExporter {
  private built: SpanExporter | undefined;

  constructor(private readonly build: () => SpanExporter) {}

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    let exporter: SpanExporter;
    try {
      exporter = this.built ??= this.build();
    } catch (error) {
      resultCallback({ code: ExportResultCode.FAILED, error: error as Error });
      return;
    }
    exporter.export(spans, resultCallback);
  }

  /** Nothing was built when nothing was exported: nothing to shut down. */
  async shutdown(): Promise<void> {
    await this.built?.shutdown();
  }

  async forceFlush(): Promise<void> {
    await this.built?.forceFlush?.();
  }
}
