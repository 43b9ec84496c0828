import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCollector, type RunningCollector } from '../../../collector/src/app.js';
import type { TaskDetail, TaskSummary } from '../../../collector/src/api/views.js';
import { collectorConfig } from '../../../collector/src/config/index.js';
import { eventually } from '../support/processes.js';
import { toProtobuf } from './support/otlp-bodies.js';
import { rawGrpcTraceClient } from './support/raw-otlp-clients.js';

const OWNER_TOKEN = `owner-${'Qx7'.repeat(11)}`;
const INTRUDER_TOKEN = `intruder-${'Wm4'.repeat(11)}`;
const TASK_ID = 'deploy-billing-2026-12-07';

interface SpanSpec {
  traceId: string;
  service: string;
  failed: boolean;
  inputTokens: number;
  taskId?: string;
}

/** One tool-call span as any OTLP exporter sends it. */
const exportRequest = ({ traceId, service, failed, inputTokens, taskId }: SpanSpec) => {
  const now = BigInt(Date.now()) * 1_000_000n;
  const text = (key: string, value: string) => ({ key, value: { stringValue: value } });
  return {
    resourceSpans: [
      {
        resource: { attributes: [text('service.name', service)] },
        scopeSpans: [
          {
            scope: { name: 'ownership-test' },
            spans: [
              {
                traceId,
                spanId: randomBytes(8).toString('hex'),
                name: 'tools/call apply_plan',
                kind: 2,
                startTimeUnixNano: String(now),
                endTimeUnixNano: String(now + 2_000_000n),
                attributes: [
                  text('mcp.method.name', 'tools/call'),
                  text('gen_ai.tool.name', 'apply_plan'),
                  { key: 'gen_ai.usage.input_tokens', value: { intValue: String(inputTokens) } },
                  ...(taskId === undefined ? [] : [text('mcpscope.task.id', taskId)]),
                  ...(failed ? [text('error.type', 'tool_error')] : []),
                ],
                status: { code: failed ? 2 : 1 },
              },
            ],
          },
        ],
      },
    ],
  };
};

let dataDir: string;
let collector: RunningCollector;
const traceId = randomBytes(16).toString('hex');

const start = async () =>
  startCollector(
    collectorConfig({
      httpPort: 0,
      grpcPort: 0,
      batchIntervalMs: 2,
      dbPath: join(dataDir, 'ownership.duckdb'),
      authTokens: [OWNER_TOKEN, INTRUDER_TOKEN],
    }),
  );

const postJson = (token: string, body: unknown) =>
  fetch(`${collector.url}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });

const api = async <T>(path: string): Promise<T> => {
  const response = await fetch(`${collector.url}${path}`, {
    headers: { authorization: `Bearer ${OWNER_TOKEN}` },
  });
  expect(response.status).toBe(200);
  return (await response.json()) as T;
};

const metric = async (series: string): Promise<number> => {
  const text = await (await fetch(`${collector.url}/metrics`)).text();
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return Number(line?.slice(series.length + 1) ?? NaN);
};

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'mcpscope-ownership-'));
  collector = await start();
  const owned = await postJson(
    OWNER_TOKEN,
    exportRequest({ traceId, service: 'billing-agent', failed: false, inputTokens: 10, taskId: TASK_ID }),
  );
  expect(owned.status).toBe(200);
  await eventually(
    async () => ((await api<{ tasks: TaskSummary[] }>('/api/tasks')).tasks.length > 0 ? true : undefined),
    { what: 'the owner task to be rolled up' },
  );
}, 60_000);

afterAll(async () => {
  await collector?.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('task ownership', () => {
  it("keeps a foreign producer's spans naming another's task id and trace id apart, and counts them", async () => {
    // The second identity names the owner's task id (HTTP/JSON) and its trace id (gRPC), failing, with tokens.
    const byTaskId = await postJson(
      INTRUDER_TOKEN,
      exportRequest({ traceId, service: 'intruder', failed: true, inputTokens: 9_999, taskId: TASK_ID }),
    );
    expect(byTaskId.status).toBe(200);
    const grpcClient = rawGrpcTraceClient(collector.grpcPort);
    const metadata = new grpc.Metadata();
    metadata.set('authorization', `Bearer ${INTRUDER_TOKEN}`);
    const byTraceId = await grpcClient.export(
      toProtobuf(
        exportRequest({ traceId, service: 'intruder', failed: true, inputTokens: 7_777 }) as Parameters<
          typeof toProtobuf
        >[0],
      ),
      metadata,
    );
    grpcClient.close();
    expect(byTraceId.code).toBe(grpc.status.OK);

    // The owner's task is as the owner left it: outcome, tokens, services, calls.
    const { task, calls } = await api<TaskDetail>(`/api/tasks/${TASK_ID}`);
    expect(task).toMatchObject({
      taskId: TASK_ID,
      outcome: 'success',
      inputTokens: 10,
      services: ['billing-agent'],
      toolCalls: 1,
      failedCalls: 0,
    });
    expect(calls).toHaveLength(1);
    // The intruder's spans are kept, together (its own copy of the trace), in a task that says whose it is.
    const { tasks } = await api<{ tasks: TaskSummary[] }>('/api/tasks?limit=50');
    const apart = tasks.find((candidate) => candidate.taskId === `${TASK_ID}@static-token-2`);
    expect(apart).toMatchObject({ outcome: 'failed', services: ['intruder'], inputTokens: 9_999 + 7_777 });
    expect(tasks.map((candidate) => candidate.taskId).sort()).toEqual([TASK_ID, `${TASK_ID}@static-token-2`]);
    expect(await metric('mcpscope_collector_foreign_claims_total{kind="task"}')).toBe(1);
    expect(await metric('mcpscope_collector_foreign_claims_total{kind="trace"}')).toBe(2);
  });

  it('remembers who owns what across a restart, from the database file', async () => {
    await collector.close();
    collector = await start();
    const again = await postJson(
      INTRUDER_TOKEN,
      exportRequest({ traceId, service: 'intruder', failed: true, inputTokens: 1, taskId: TASK_ID }),
    );
    expect(again.status).toBe(200);
    const { task } = await api<TaskDetail>(`/api/tasks/${TASK_ID}`);
    expect(task).toMatchObject({ outcome: 'success', inputTokens: 10, services: ['billing-agent'] });
    expect(await metric('mcpscope_collector_foreign_claims_total{kind="task"}')).toBe(1);
  });
});
