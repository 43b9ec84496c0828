import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCollector, type RunningCollector } from '../../../collector/src/app.js';
import type { TaskSummary } from '../../../collector/src/api/views.js';
import { collectorConfig } from '../../../collector/src/config/index.js';
import { eventually } from '../support/processes.js';

const YEAR_2261_NS = BigInt(Date.UTC(2261, 0, 1)) * 1_000_000n;

const text = (key: string, value: string) => ({ key, value: { stringValue: value } });

const exportRequest = (taskId: string, startNs: bigint) => ({
  resourceSpans: [
    {
      resource: { attributes: [text('service.name', 'clock-test')] },
      scopeSpans: [
        {
          scope: { name: 'clock-test' },
          spans: [
            {
              traceId: randomBytes(16).toString('hex'),
              spanId: randomBytes(8).toString('hex'),
              name: 'tools/call plan',
              kind: 2,
              startTimeUnixNano: String(startNs),
              endTimeUnixNano: String(startNs + 3_000_000n),
              attributes: [
                text('mcp.method.name', 'tools/call'),
                text('gen_ai.tool.name', 'plan'),
                text('mcpscope.task.id', taskId),
              ],
              events: [{ name: 'checkpoint', timeUnixNano: String(startNs + 1_000_000n), attributes: [] }],
              status: {},
            },
          ],
        },
      ],
    },
  ],
});

let dataDir: string;
let dbPath: string;
let collector: RunningCollector;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'mcpscope-clock-'));
  dbPath = join(dataDir, 'clock.duckdb');
  collector = await startCollector(collectorConfig({ httpPort: 0, grpcPort: 0, batchIntervalMs: 2, dbPath }));
}, 60_000);

afterAll(async () => {
  await collector?.close();
  await rm(dataDir, { recursive: true, force: true });
});

const post = (body: unknown) =>
  fetch(`${collector.url}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

describe("a producer's clock", () => {
  it('cannot date a span in 2261 to top the task list or outlive retention', async () => {
    const sentAt = Date.now();
    expect((await post(exportRequest('from-the-future', YEAR_2261_NS))).status).toBe(200);
    // Sent after it, with a true clock: it is the newer task.
    expect((await post(exportRequest('on-time', BigInt(Date.now() + 50) * 1_000_000n))).status).toBe(200);
    const tasks = await eventually(
      async () => {
        const page = (await (await fetch(`${collector.url}/api/tasks`)).json()) as { tasks: TaskSummary[] };
        return page.tasks.length === 2 ? page.tasks : undefined;
      },
      { what: 'both tasks' },
    );
    expect(tasks.map((task) => task.taskId)).toEqual(['on-time', 'from-the-future']);
    const future = tasks[1]!;
    expect(Date.parse(future.startTime)).toBeGreaterThanOrEqual(sentAt - 1_000);
    expect(Date.parse(future.startTime)).toBeLessThanOrEqual(Date.now());
    const metrics = await (await fetch(`${collector.url}/metrics`)).text();
    expect(metrics).toMatch(/^mcpscope_collector_span_times_clamped_total 1$/m);

    // In the file: no time past arrival, so retention (end time against the collector's clock) takes it in time.
    await collector.close();
    const instance = await DuckDBInstance.create(dbPath, { access_mode: 'READ_ONLY' });
    const connection = await instance.connect();
    const reader = await connection.runAndReadAll('SELECT max(end_ns) AS latest FROM spans');
    const latest = BigInt(String(reader.getRowObjectsJS()[0]?.latest));
    connection.closeSync();
    instance.closeSync();
    expect(latest).toBeLessThanOrEqual(BigInt(Date.now()) * 1_000_000n);
  }, 60_000);
});
