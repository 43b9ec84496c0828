import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { context, SpanKind, SpanStatusCode, trace, type Link } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import type { Hono } from 'hono';
import type { IngestObserver, IngestProtocol, RejectionReason } from '../../model/ingest-events.js';
import type { SpanKind as RecordKind, SpanRecord, SpanSink } from '../../model/span.js';

/** Secrets the built-in redaction rules recognise by value, whatever attribute carries them. */
export const GITHUB_TOKEN = 'ghp_Zq8rT3vK9mW2xY7pL4nB6cD1fH5jS0aE8uQ3';
export const AWS_ACCESS_KEY_ID = 'AKIAZ7XK3PQ9RMT2LWVB';
export const ANTHROPIC_KEY = 'sk-ant-api03-Zq8rT3vK9mW2xY7pL4nB6cD1fH5jS0aE8uQ3';

/** A sink that keeps what it accepted; `failNext` makes the next calls reject with the given errors. */
export function recordingSink() {
  const spans: SpanRecord[] = [];
  const failures: Error[] = [];
  let calls = 0;
  const sink: SpanSink & {
    spans: SpanRecord[];
    calls: () => number;
    failNext: (...errors: Error[]) => void;
  } = {
    spans,
    calls: () => calls,
    failNext: (...errors) => failures.push(...errors),
    async accept(batch) {
      calls += 1;
      const failure = failures.shift();
      if (failure) throw failure;
      spans.push(...batch);
    },
  };
  return sink;
}

/** An observer that records every call, to assert what the metrics would count. */
export function recordingObserver() {
  const events = {
    received: [] as Array<[IngestProtocol, number]>,
    rejected: [] as Array<[IngestProtocol, RejectionReason]>,
    authFailed: [] as Array<[IngestProtocol, string]>,
    redacted: [] as Array<Readonly<Record<string, number>>>,
  };
  const observer: IngestObserver = {
    received: (protocol, count) => events.received.push([protocol, count]),
    rejected: (protocol, reason) => events.rejected.push([protocol, reason]),
    authFailed: (protocol, reason) => events.authFailed.push([protocol, reason]),
    redacted: (byRule) => events.redacted.push(byRule),
  };
  return { observer, events };
}

/** Serves a Hono app on 127.0.0.1 with an ephemeral port. */
export async function listen(
  app: Hono,
  port = 0,
): Promise<{ url: string; port: number; close: () => Promise<void> }> {
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port }, (info: AddressInfo) => {
      resolve({
        url: `http://127.0.0.1:${info.port}`,
        port: info.port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            if ('closeAllConnections' in server) server.closeAllConnections();
          }),
      });
    });
  });
}

/** Spans of one small agent task, made by the real SDK: every attribute type, events, links, statuses, kinds. */
export async function makeSampleSpans(): Promise<ReadableSpan[]> {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({
      'service.name': 'infra-mcp',
      'service.version': '1.4.2',
      'deployment.environment': 'test',
      'deployment.note': `rotated ${AWS_ACCESS_KEY_ID}`,
    }),
    spanProcessors: [new SimpleSpanProcessor(memory)],
  });
  const tracer = provider.getTracer('mcpscope-test', '0.1.0');

  const root = tracer.startSpan('agent.task', { kind: SpanKind.INTERNAL });
  const rootContext = trace.setSpan(context.active(), root);
  const link: Link = {
    context: root.spanContext(),
    attributes: { 'link.reason': 'retry-of', 'link.attempt': 2 },
  };
  const call = tracer.startSpan(
    'tools/call plan_changes',
    {
      kind: SpanKind.CLIENT,
      links: [link],
      attributes: {
        'mcp.method.name': 'tools/call',
        'gen_ai.tool.name': 'plan_changes',
        'jsonrpc.request.id': '7',
        'server.port': 8443,
        'mcpscope.sample.ratio': 0.25,
        'mcpscope.sample.enabled': true,
        'mcpscope.sample.tags': ['terraform', 'plan'],
        'mcpscope.sample.sizes': [1, 2, 3],
        'mcpscope.sample.ratios': [0.5, 1.5],
        'mcpscope.sample.flags': [true, false],
        'gen_ai.tool.call.arguments': JSON.stringify({ workspace: 'prod', github_pat: GITHUB_TOKEN }),
        'mcpscope.sample.note': `deploy with ${GITHUB_TOKEN}`,
      },
    },
    rootContext,
  );
  call.addEvent('exception', {
    'exception.type': 'AuthError',
    'exception.message': `upstream refused key ${ANTHROPIC_KEY}`,
  });
  call.addEvent('progress', { 'progress.percent': 50 });
  call.setStatus({ code: SpanStatusCode.ERROR, message: 'tool failed' });
  call.end();

  const server = tracer.startSpan(
    'tools/call plan_changes',
    { kind: SpanKind.SERVER },
    trace.setSpan(rootContext, call),
  );
  server.setStatus({ code: SpanStatusCode.OK });
  server.end();
  for (const kind of [SpanKind.PRODUCER, SpanKind.CONSUMER])
    tracer.startSpan(`queue ${kind}`, { kind }, rootContext).end();
  root.end();

  await provider.forceFlush();
  const spans = memory.getFinishedSpans();
  await provider.shutdown();
  return spans;
}

const KIND_NAMES: Record<SpanKind, RecordKind> = {
  [SpanKind.INTERNAL]: 'internal',
  [SpanKind.SERVER]: 'server',
  [SpanKind.CLIENT]: 'client',
  [SpanKind.PRODUCER]: 'producer',
  [SpanKind.CONSUMER]: 'consumer',
};

const nanos = ([seconds, nanoseconds]: [number, number]): bigint =>
  BigInt(seconds) * 1_000_000_000n + BigInt(nanoseconds);

/** What the collector should record for an SDK span, before redaction. */
export function expectedRecord(span: ReadableSpan): SpanRecord {
  const parent = span.parentSpanContext?.spanId;
  return {
    traceId: span.spanContext().traceId,
    spanId: span.spanContext().spanId,
    parentSpanId: parent ?? null,
    name: span.name,
    kind: KIND_NAMES[span.kind],
    startTimeUnixNano: nanos(span.startTime),
    endTimeUnixNano: nanos(span.endTime),
    statusCode: (['unset', 'ok', 'error'] as const)[span.status.code],
    statusMessage: span.status.message ?? '',
    serviceName: String(span.resource.attributes['service.name']),
    scopeName: span.instrumentationScope.name,
    attributes: { ...span.attributes } as SpanRecord['attributes'],
    resourceAttributes: { ...span.resource.attributes } as SpanRecord['resourceAttributes'],
    events: span.events.map((event) => ({
      name: event.name,
      timeUnixNano: nanos(event.time),
      attributes: { ...(event.attributes ?? {}) } as SpanRecord['attributes'],
    })),
    links: span.links.map((link) => ({
      traceId: link.context.traceId,
      spanId: link.context.spanId,
      attributes: { ...(link.attributes ?? {}) } as SpanRecord['attributes'],
    })),
  };
}

/** Calls a real exporter's `export` and waits for its verdict. */
export const exportSpans = (exporter: SpanExporter, spans: ReadableSpan[]): Promise<ExportResult> =>
  new Promise((resolve) => exporter.export(spans, resolve));

export { ExportResultCode };

/** Plain attribute records with the secrets swapped for what redaction should leave. */
export function withRedactedSecrets(record: SpanRecord): SpanRecord {
  const scrub = (value: unknown): unknown =>
    typeof value === 'string'
      ? value
          .replaceAll(GITHUB_TOKEN, '[REDACTED:github_token]')
          .replaceAll(AWS_ACCESS_KEY_ID, '[REDACTED:aws_access_key_id]')
          .replaceAll(ANTHROPIC_KEY, '[REDACTED:anthropic_api_key]')
      : value;
  const scrubAll = (attributes: SpanRecord['attributes']) =>
    Object.fromEntries(
      Object.entries(attributes).map(([key, value]) => [key, scrub(value)]),
    ) as SpanRecord['attributes'];
  return {
    ...record,
    attributes: scrubAll(record.attributes),
    resourceAttributes: scrubAll(record.resourceAttributes),
    events: record.events.map((event) => ({ ...event, attributes: scrubAll(event.attributes) })),
    links: record.links.map((link) => ({ ...link, attributes: scrubAll(link.attributes) })),
  };
}
