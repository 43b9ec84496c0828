import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCollector, type RunningCollector } from '../../../collector/src/app.js';
import type { TaskDetail } from '../../../collector/src/api/views.js';
import { collectorConfig } from '../../../collector/src/config/index.js';
import { eventually } from '../support/processes.js';

let dataDir: string;
let collector: RunningCollector;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'mcpscope-consistency-'));
  collector = await startCollector(
    collectorConfig({ httpPort: 0, grpcPort: 0, batchIntervalMs: 2, dbPath: join(dataDir, 'c.duckdb') }),
  );
}, 60_000);

afterAll(async () => {
  await collector?.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('time filters of the API', () => {
  it('refuse a loosely written time with a 400 naming the parameter, and take the strict forms', async () => {
    const loose = [
      'Dec 7 2026',
      'Mon, 07 Dec 2026 10:00:00 GMT',
      '2026-12-07T10:00:00', // no zone: whose local time?
      '2026-02-30T00:00:00Z', // rolled into March by Date.parse
      '12/07/2026',
      ' 2026-12-07T10:00:00Z',
      '2026-12-07T10:00:00Zjunk',
      '99999999999999999',
      '-5',
    ];
    for (const value of loose) {
      for (const [path, parameter] of [
        [`/api/tasks?from=${encodeURIComponent(value)}`, 'from'],
        [`/api/tools?to=${encodeURIComponent(value)}`, 'to'],
      ] as const) {
        const response = await fetch(`${collector.url}${path}`);
        expect(response.status, `${path}`).toBe(400);
        const body = (await response.json()) as { code: string; message: string };
        expect(body.code).toBe('invalid_parameter');
        expect(body.message).toContain(`invalid query parameter "${parameter}": expected an ISO 8601`);
        expect(body.message).not.toContain(value.trim());
      }
    }
    for (const value of [
      '2026-12-07',
      '2026-12-07T10:00Z',
      '2026-12-07T10:00:00.123+01:00',
      '2026-12-07T10:00:00Z',
      String(Date.now()),
    ]) {
      const response = await fetch(`${collector.url}/api/tasks?from=${encodeURIComponent(value)}`);
      expect(response.status, value).toBe(200);
    }
  });
});

describe('duplicate span ids', () => {
  it('keep the first span sent, within a request as across requests', async () => {
    const traceId = randomBytes(16).toString('hex');
    const spanId = randomBytes(8).toString('hex');
    const now = BigInt(Date.now()) * 1_000_000n;
    const span = (tool: string) => ({
      traceId,
      spanId,
      name: `tools/call ${tool}`,
      kind: 2,
      startTimeUnixNano: String(now),
      endTimeUnixNano: String(now + 1_000_000n),
      attributes: [
        { key: 'mcp.method.name', value: { stringValue: 'tools/call' } },
        { key: 'gen_ai.tool.name', value: { stringValue: tool } },
      ],
      status: {},
    });
    const post = (...spans: ReturnType<typeof span>[]) =>
      fetch(`${collector.url}/v1/traces`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          resourceSpans: [
            {
              resource: { attributes: [{ key: 'service.name', value: { stringValue: 'dup-test' } }] },
              scopeSpans: [{ scope: { name: 'dup-test' }, spans }],
            },
          ],
        }),
      });
    expect((await post(span('first'), span('second'))).status).toBe(200);
    expect((await post(span('third'))).status).toBe(200);
    const detail = await eventually(
      async () => {
        const response = await fetch(`${collector.url}/api/tasks/${traceId}`);
        return response.status === 200 ? ((await response.json()) as TaskDetail) : undefined;
      },
      { what: 'the task' },
    );
    expect(detail.calls.map((call) => call.tool)).toEqual(['first']);
    const metrics = await (await fetch(`${collector.url}/metrics`)).text();
    expect(metrics).toMatch(/^mcpscope_collector_duplicate_spans_total 2$/m);
  });
});
