import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter as OtlpGrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as OtlpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually, freePort } from '../support/processes.js';
import { startCollectorProcess, type CollectorProcess } from '../support/collector-process.js';
import { crashWorkload, requestBodies, type TaskTruth } from './support/crash-workload.js';

const KILLS = 20;
const TASKS = 600;
const SPANS_PER_REQUEST = 10;

/** Passes spans to a real exporter and remembers which ones it saw acknowledged. */
class AcknowledgingExporter implements SpanExporter {
  readonly acknowledged = new Set<string>();
  readonly failed = new Set<string>();
  constructor(private readonly inner: SpanExporter) {}
  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    this.inner.export(spans, (result) => {
      const ids = spans.map((span) => span.spanContext().spanId);
      for (const id of ids)
        (result.code === ExportResultCode.SUCCESS ? this.acknowledged : this.failed).add(id);
      resultCallback(result);
    });
  }
  shutdown() {
    return this.inner.shutdown();
  }
  forceFlush() {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

/** A steady stream of spans through one real OTLP exporter. */
const startExporterLoad = (name: string, exporter: SpanExporter) => {
  const acknowledging = new AcknowledgingExporter(exporter);
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': `crash-${name}` }),
    spanProcessors: [
      new BatchSpanProcessor(acknowledging, { scheduledDelayMillis: 100, maxExportBatchSize: 50 }),
    ],
  });
  const tracer = provider.getTracer('crash-load');
  let created = 0;
  const timer = setInterval(() => {
    tracer.startSpan(`load ${name} ${created}`).end();
    created += 1;
  }, 10);
  return {
    name,
    acknowledging,
    created: () => created,
    async stop() {
      clearInterval(timer);
      await provider.forceFlush().catch(() => undefined);
      await provider.shutdown().catch(() => undefined);
    },
  };
};

/** Sends each body until the collector answers 200, as an exporter that never gives up would. */
const startRetryingDriver = (bodies: string[], url: () => string, workers = 2) => {
  const queue = [...bodies];
  let attempts = 0;
  let acknowledged = 0;
  const worker = async () => {
    for (let body = queue.shift(); body !== undefined; body = queue.shift()) {
      for (;;) {
        attempts += 1;
        const status = await fetch(`${url()}/v1/traces`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(5_000),
        }).then(
          (response) => response.status,
          () => 0,
        );
        if (status === 200) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      acknowledged += 1;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  const done = Promise.all(Array.from({ length: workers }, worker));
  return { done, stats: () => ({ attempts, acknowledged, remaining: queue.length }) };
};

const readOnlyQuery = async (dbPath: string, sql: string) => {
  const instance = await DuckDBInstance.create(dbPath, { access_mode: 'READ_ONLY' });
  try {
    const connection = await instance.connect();
    try {
      return (await connection.runAndReadAll(sql)).getRowObjectsJS();
    } finally {
      connection.closeSync();
    }
  } finally {
    instance.closeSync();
  }
};

let dataDir: string | undefined;
let current: CollectorProcess | undefined;
afterAll(async () => {
  await current?.process.stop('SIGKILL');
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('the collector killed with SIGKILL again and again under load', () => {
  it(
    `loses nothing acknowledged over ${KILLS} kills, stores each span once and rolls up the truth`,
    { timeout: 180_000 },
    async () => {
      dataDir = await mkdtemp(join(tmpdir(), 'mcpscope-crash-'));
      const dbPath = join(dataDir, 'mcpscope.duckdb');
      const httpPort = await freePort();
      const grpcPort = await freePort();
      const runId = `crash-${Date.now().toString(36)}`;
      const { spans: driverSpans, truths } = crashWorkload(TASKS, runId);

      current = await startCollectorProcess({ httpPort, grpcPort, dbPath });
      const collectorUrl = current.url;
      const driver = startRetryingDriver(
        requestBodies(driverSpans, SPANS_PER_REQUEST, 'crash-agent'),
        () => collectorUrl,
      );
      const loads = [
        startExporterLoad('grpc', new OtlpGrpcExporter({ url: `http://127.0.0.1:${grpcPort}` })),
        startExporterLoad('http-protobuf', new OtlpProtoExporter({ url: `${collectorUrl}/v1/traces` })),
        startExporterLoad('http-json', new OtlpJsonExporter({ url: `${collectorUrl}/v1/traces` })),
      ];

      const restarts: string[] = [];
      for (let kill = 1; kill <= KILLS; kill += 1) {
        await new Promise((resolve) => setTimeout(resolve, 200 + Math.random() * 800));
        current.process.child.kill('SIGKILL');
        await current.process.exited;
        // After each restart the database opens: the collector gets as far as listening.
        current = await startCollectorProcess({ httpPort, grpcPort, dbPath });
        restarts.push(`restart ${kill}: ${JSON.stringify(driver.stats())}`);
      }

      // Exporters reconnect to the last collector and get through again before the load stops.
      const acknowledgedAtLastRestart = loads.map((load) => load.acknowledging.acknowledged.size);
      await eventually(
        () =>
          loads.every(
            (load, index) => load.acknowledging.acknowledged.size > acknowledgedAtLastRestart[index]!,
          )
            ? true
            : undefined,
        { what: 'every exporter to deliver to the last collector', timeoutMs: 30_000 },
      );
      await driver.done;
      for (const load of loads) await load.stop();
      expect(driver.stats().remaining).toBe(0);

      // Every rollup equals the truth.
      const mismatches: string[] = [];
      for (const truth of truths) {
        const response = await fetch(`${current.url}/api/tasks/${encodeURIComponent(truth.taskId)}`);
        if (response.status !== 200) {
          mismatches.push(`${truth.taskId}: HTTP ${response.status}`);
          continue;
        }
        const { task } = (await response.json()) as { task: TaskTruth };
        const seen: TaskTruth = {
          taskId: task.taskId,
          outcome: task.outcome,
          toolCalls: task.toolCalls,
          failedCalls: task.failedCalls,
          retries: task.retries,
          inputTokens: task.inputTokens,
          outputTokens: task.outputTokens,
        };
        if (JSON.stringify(seen) !== JSON.stringify(truth))
          mismatches.push(`expected ${JSON.stringify(truth)}\n     got ${JSON.stringify(seen)}`);
      }
      expect(
        mismatches.slice(0, 10).join('\n'),
        `${mismatches.length} of ${truths.length} tasks differ`,
      ).toBe('');

      // Shut down cleanly, then read the file as a second process may once the owner is gone.
      current.process.child.kill('SIGTERM');
      expect(await current.process.exited, current.process.stderr().slice(-2000)).toBe(0);
      const stored = await readOnlyQuery(
        dbPath,
        'SELECT span_id, count(*) AS copies FROM spans GROUP BY span_id',
      );
      const copies = new Map(stored.map((row) => [String(row.span_id), Number(row.copies)]));

      const duplicated = [...copies].filter(([, count]) => count > 1);
      expect(duplicated.slice(0, 10), 'no span is stored twice').toEqual([]);
      const missingDriver = driverSpans
        .filter((span) => copies.get(span.spanId) !== 1)
        .map((span) => span.spanId);
      expect(
        missingDriver.slice(0, 10),
        `driver spans missing (${missingDriver.length} of ${driverSpans.length})`,
      ).toEqual([]);
      for (const load of loads) {
        const missing = [...load.acknowledging.acknowledged].filter((id) => copies.get(id) !== 1);
        expect(
          missing.slice(0, 10),
          `${load.name}: acknowledged spans missing (${missing.length} of ${load.acknowledging.acknowledged.size})`,
        ).toEqual([]);
        expect(load.acknowledging.acknowledged.size, `${load.name} got spans through`).toBeGreaterThan(0);
      }
      console.info(
        [
          ...restarts.slice(-3),
          `driver: ${JSON.stringify(driver.stats())}`,
          ...loads.map(
            (load) =>
              `${load.name}: created ${load.created()}, acknowledged ${load.acknowledging.acknowledged.size}, failed ${load.acknowledging.failed.size}`,
          ),
        ].join('\n'),
      );
    },
  );
});
