import { readdir, readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { SpanStatusCode, type Attributes } from '@opentelemetry/api';
import { OTLPTraceExporter as OtlpGrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as OtlpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import * as grpc from '@grpc/grpc-js';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { afterAll, describe, expect, it } from 'vitest';
import {
  fakeSecret,
  FORMAT_NAMES,
  seededRandom,
  type FakeSecret,
} from '../../../instrumentation/src/redaction/test-support/fake-secrets.js';
import { eventually, freePort } from '../support/processes.js';
import { startCollectorProcess, type CollectorProcess } from '../support/collector-process.js';
import { startExportingPair } from '../reliability/support/exporting-pair.js';
import { startForwardTarget } from './support/forward-target.js';

const INGEST_TOKEN = `ingest-${'Zq8'.repeat(10)}`;
/** Not a secret: stored as sent, so finding it proves each search can see what was stored. */
const CANARY = 'canary-not-a-secret-7c1e95';

interface PlacedSecret extends FakeSecret {
  format: string;
  carrier: string;
}

const CARRIERS = [
  'span attribute',
  'resource attribute',
  'span event',
  'exception message',
  'arguments of another instrumentation',
  'array attribute',
  'scope name',
  'span name',
  'attribute key',
  'base64 attribute',
  'percent-encoded attribute',
] as const;

/** Two of every format the redaction engine knows, each given a place to hide. */
const buildCorpus = (): PlacedSecret[] => {
  const random = seededRandom(20_261_124);
  const corpus: PlacedSecret[] = [];
  for (const format of FORMAT_NAMES) {
    for (let copy = 0; copy < 2; copy += 1) {
      const secret = fakeSecret(format, random);
      const carrier = CARRIERS[corpus.length % CARRIERS.length]!;
      // An encoded secret must not survive in its encoded form either.
      const encoded = carrier === 'base64 attribute' ? [Buffer.from(secret.text).toString('base64')] : [];
      corpus.push({ ...secret, needles: [...secret.needles, ...encoded], format, carrier });
    }
  }
  return corpus;
};

/** Spans from a plain OpenTelemetry SDK, no mcpscope instrumentation: the collector's redaction is the only defence. */
const sendBypassingInstrumentation = async (
  exporter: SpanExporter,
  serviceName: string,
  secrets: PlacedSecret[],
) => {
  const resourceAttributes: Attributes = { 'service.name': serviceName, 'deployment.note': CANARY };
  secrets
    .filter((secret) => secret.carrier === 'resource attribute')
    .forEach(
      (secret, index) => (resourceAttributes[`deployment.note.${index}`] = `configured with ${secret.text}`),
    );
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes(resourceAttributes),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('third-party-instrumentation');
  for (const secret of secrets) {
    const spanTracer =
      secret.carrier === 'scope name' ? provider.getTracer(`scope of ${secret.text}`) : tracer;
    const spanName =
      secret.carrier === 'span name' ? `GET /callback ${secret.text}` : 'tools/call leak_check';
    const span = spanTracer.startSpan(spanName, {
      attributes: {
        'mcp.method.name': 'tools/call',
        'gen_ai.tool.name': 'leak_check',
        'canary.value': CANARY,
      },
    });
    switch (secret.carrier) {
      case 'span attribute':
        span.setAttribute('input.value', `user pasted ${secret.text} into the prompt`);
        break;
      case 'span event':
        span.addEvent('log', { message: `connecting with ${secret.text}` });
        break;
      case 'exception message': {
        const error = new Error(`request failed for ${secret.text}`);
        span.recordException(error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
        break;
      }
      case 'arguments of another instrumentation':
        span.setAttribute(
          'traceloop.entity.input',
          JSON.stringify({ config: { value: secret.text, region: 'eu' } }),
        );
        break;
      case 'array attribute':
        span.setAttribute('http.request.header.x-forwarded', ['first', `second ${secret.text}`]);
        break;
      case 'attribute key':
        span.setAttribute(`note ${secret.text}`, 'value');
        break;
      case 'base64 attribute':
        span.setAttribute('payload.base64', Buffer.from(secret.text).toString('base64'));
        break;
      case 'percent-encoded attribute':
        span.setAttribute('url.query', `state=abc&note=${encodeURIComponent(secret.text)}`);
        break;
      default:
        break;
    }
    span.setAttribute('http.request.header.authorization', `Bearer ${INGEST_TOKEN}`);
    span.end();
  }
  await provider.forceFlush();
  await provider.shutdown();
};

let dataDir: string | undefined;
let collector: CollectorProcess | undefined;
let forwardTarget: Awaited<ReturnType<typeof startForwardTarget>> | undefined;
afterAll(async () => {
  await collector?.process.stop('SIGKILL');
  await forwardTarget?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

const readDatabaseText = async (dbPath: string): Promise<string> => {
  const instance = await DuckDBInstance.create(dbPath, { access_mode: 'READ_ONLY' });
  try {
    const connection = await instance.connect();
    try {
      const tables = (
        await connection.runAndReadAll('SELECT table_name FROM information_schema.tables')
      ).getRowObjectsJS();
      let text = '';
      for (const { table_name: table } of tables) {
        const rows = (await connection.runAndReadAll(`SELECT * FROM "${String(table)}"`)).getRowObjectsJS();
        text += JSON.stringify(rows, (_key, value: unknown) =>
          typeof value === 'bigint' ? value.toString() : value,
        );
      }
      return text;
    } finally {
      connection.closeSync();
    }
  } finally {
    instance.closeSync();
  }
};

describe('secrets sent to the collector', () => {
  it(
    'appear nowhere: not in the database file or its WAL, the API, /metrics, forwarded spans or any log',
    { timeout: 120_000 },
    async () => {
      const corpus = buildCorpus();
      expect(new Set(corpus.map((secret) => secret.format)).size).toBe(FORMAT_NAMES.length);
      dataDir = await mkdtemp(join(tmpdir(), 'mcpscope-secrets-'));
      const dbPath = join(dataDir, 'mcpscope.duckdb');
      forwardTarget = await startForwardTarget();
      const grpcPort = await freePort();
      collector = await startCollectorProcess({
        httpPort: await freePort(),
        grpcPort,
        dbPath,
        extraArgs: [
          '--auth-tokens',
          INGEST_TOKEN,
          '--forward-endpoint',
          forwardTarget.url,
          '--log-level',
          'debug',
        ],
      });
      const authorization = { Authorization: `Bearer ${INGEST_TOKEN}` };
      const grpcMetadata = new grpc.Metadata();
      grpcMetadata.set('authorization', `Bearer ${INGEST_TOKEN}`);

      // 1. Through plain OpenTelemetry exporters of all three protocols. Every span is one export at
      // once (SimpleSpanProcessor): the corpus holds more than the exporters' default 30 in flight.
      const thirds = [0, 1, 2].map((part) => corpus.filter((_secret, index) => index % 3 === part));
      await sendBypassingInstrumentation(
        new OtlpGrpcExporter({ url: collector.grpcUrl, metadata: grpcMetadata, concurrencyLimit: 1_000 }),
        'bypass-grpc',
        thirds[0]!,
      );
      await sendBypassingInstrumentation(
        new OtlpProtoExporter({
          url: `${collector.url}/v1/traces`,
          headers: authorization,
          concurrencyLimit: 1_000,
        }),
        'bypass-http-protobuf',
        thirds[1]!,
      );
      await sendBypassingInstrumentation(
        new OtlpJsonExporter({
          url: `${collector.url}/v1/traces`,
          headers: authorization,
          concurrencyLimit: 1_000,
        }),
        'bypass-http-json',
        thirds[2]!,
      );

      // 2. Through the instrumentation: secrets nested in tool-call arguments, exported over OTLP/gRPC.
      const pair = await startExportingPair({
        endpoint: collector.grpcUrl,
        echoDiagnostics: false,
        maxQueueSize: 4_096,
        maxExportBatchSize: 512,
        headers: { authorization: `Bearer ${INGEST_TOKEN}` },
      });
      try {
        for (const [index, secret] of corpus.entries()) {
          await pair.callTool(`${CANARY}-${index}`);
          await pair.client.callTool({
            name: 'list_workspaces',
            arguments: { filter: CANARY, apiKey: secret.text, nested: { notes: [`see ${secret.text}`] } },
          });
        }
        await pair.forceFlush();
        const accounting = await pair.accounting();
        expect(accounting.exported, 'the instrumented spans reached the collector').toBeGreaterThanOrEqual(
          corpus.length * 4,
        );
      } finally {
        await pair.shutDown();
      }

      // Everything committed and forwarded before looking.
      const running = collector;
      const expectedSpans = corpus.length + corpus.length * 4;
      await eventually(
        async () => {
          const metrics = await (await fetch(`${running.url}/metrics`)).text();
          const committed = Number(
            /^mcpscope_collector_spans_committed_total (\d+)/m.exec(metrics)?.[1] ?? 0,
          );
          return committed >= expectedSpans ? committed : undefined;
        },
        { what: `${expectedSpans} committed spans` },
      );
      await eventually(
        () => (forwardTarget!.received().includes(`${CANARY}-${corpus.length - 1}`) ? true : undefined),
        {
          what: 'the last span forwarded',
        },
      );

      const apiTexts: string[] = [];
      const bearer = { authorization: `Bearer ${INGEST_TOKEN}` };
      const tasksText = await (
        await fetch(`${running.url}/api/tasks?limit=1000`, { headers: bearer })
      ).text();
      apiTexts.push(tasksText);
      const { tasks } = JSON.parse(tasksText) as { tasks: Array<{ taskId: string }> };
      expect(tasks.length).toBeGreaterThan(0);
      for (const task of tasks) {
        apiTexts.push(
          await (
            await fetch(`${running.url}/api/tasks/${encodeURIComponent(task.taskId)}`, { headers: bearer })
          ).text(),
        );
      }
      apiTexts.push(await (await fetch(`${running.url}/api/tools`, { headers: bearer })).text());
      const apiText = apiTexts.join('\n');
      const metricsText = await (await fetch(`${running.url}/metrics`)).text();

      running.process.child.kill('SIGTERM');
      expect(await running.process.exited, running.process.stderr().slice(-2000)).toBe(0);
      const logText = running.process.output();
      const files = await readdir(dataDir);
      const fileBytes = (
        await Promise.all(
          files
            .filter((name) => name.startsWith('mcpscope.duckdb'))
            .map((name) => readFile(join(dataDir!, name))),
        )
      )
        .map((bytes) => bytes.toString('latin1'))
        .join('\n');
      const databaseText = await readDatabaseText(dbPath);
      const forwardedText = forwardTarget.received();

      // Positive controls: each place really holds what was sent, so a missing needle means redaction, not blindness.
      expect(databaseText, 'stored rows hold the canary').toContain(CANARY);
      expect(fileBytes, 'the file bytes show stored text uncompressed').toContain(CANARY);
      expect(apiText, 'the API shows the canary').toContain(CANARY);
      expect(forwardedText, 'forwarded spans hold the canary').toContain(CANARY);
      expect(metricsText).toContain('mcpscope_collector_redactions_total');

      const places: Array<[string, string]> = [
        ['database rows', databaseText],
        ['database file bytes (and WAL)', fileBytes],
        ['API responses', apiText],
        ['/metrics', metricsText],
        ['forwarded spans', forwardedText],
        ['collector logs', logText],
      ];
      const leaks: string[] = [];
      for (const [place, text] of places) {
        if (text.includes(INGEST_TOKEN)) leaks.push(`${place}: the ingest bearer token`);
        for (const secret of corpus) {
          for (const needle of secret.needles) {
            if (needle.length >= 8 && text.includes(needle)) {
              leaks.push(`${place}: ${secret.format} sent as ${secret.carrier} (${needle.slice(0, 6)}…)`);
              break;
            }
          }
        }
      }
      expect(leaks, leaks.join('\n')).toEqual([]);
    },
  );
});
