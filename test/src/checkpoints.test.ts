import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  emitScenario,
  SCENARIO_TASK,
  scenarioTruth,
  SERVER_SERVICE,
  startExporters,
  type ScenarioExporters,
} from './support/checkpoint-scenario.js';
import { startCollectorProcess, type CollectorProcess } from './support/collector-process.js';
import { eventually, freePort } from './support/processes.js';

/**
 * Human checkpoints through the real collector: spans from the real OpenTelemetry SDK over OTLP/gRPC
 * (the agent) and OTLP/HTTP (the server), a real DuckDB file, one checkpoint arriving backwards
 * across three traces. The API and the metrics equal the scenario's truth.
 */

interface WriteView {
  tool: string;
  verdict: string;
  orphaned: boolean;
  destructive: string;
  checkpointId: string | null;
  callerErrorType: string | null;
}
interface CheckpointView {
  checkpointId: string;
  status: string;
  waitMs: number | null;
  pendingMs: number | null;
  taskId: string | null;
  tool: string;
  writes: WriteView[];
}
interface CheckpointPage {
  pending: { count: number; oldestPendingMs: number | null };
  total: number;
  checkpoints: CheckpointView[];
}

let collector: CollectorProcess;
let dir: string;
let exporters: ScenarioExporters;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mcpscope-checkpoints-'));
  collector = await startCollectorProcess({
    httpPort: await freePort(),
    grpcPort: await freePort(),
    dbPath: join(dir, 'mcpscope.duckdb'),
    env: { MCPSCOPE_TASK_SETTLE_SECONDS: '1' },
  });
  exporters = startExporters({ grpcUrl: collector.grpcUrl, httpUrl: collector.url });
  await emitScenario(exporters);
}, 60_000);

afterAll(async () => {
  await exporters?.shutdown();
  await collector?.process.stop();
  rmSync(dir, { recursive: true, force: true });
});

const getJson = async <T>(path: string): Promise<T> => {
  const response = await fetch(`${collector.url}${path}`);
  expect(response.status).toBe(200);
  return (await response.json()) as T;
};

const allCheckpoints = () =>
  eventually(
    async () => {
      const page = await getJson<CheckpointPage>('/api/checkpoints?limit=100');
      return page.total === 9 ? page : undefined;
    },
    { what: 'nine checkpoints', timeoutMs: 20_000 },
  );

describe('GET /api/checkpoints', () => {
  it('counts every checkpoint by status and says what is pending now and for how long', async () => {
    const page = await allCheckpoints();
    const byStatus: Record<string, number> = {
      pending: 0,
      approved: 0,
      rejected: 0,
      expired: 0,
      cancelled: 0,
    };
    for (const checkpoint of page.checkpoints)
      byStatus[checkpoint.status] = (byStatus[checkpoint.status] ?? 0) + 1;
    expect(byStatus).toEqual(scenarioTruth.checkpoints);
    expect(page.pending.count).toBe(1);
    expect(page.pending.oldestPendingMs).toBeGreaterThanOrEqual(scenarioTruth.pendingSinceMsAtLeast);
    const pending = await getJson<CheckpointPage>('/api/checkpoints?status=pending');
    expect(pending.checkpoints.map((c) => c.checkpointId)).toEqual(['cp-pending']);
    expect(pending.checkpoints[0]?.pendingMs).toBeGreaterThanOrEqual(scenarioTruth.pendingSinceMsAtLeast);
  });

  it('gets a checkpoint right whose execution, decision and proposal arrived in reverse, in three traces', async () => {
    const page = await allCheckpoints();
    const outOfOrder = page.checkpoints.find((c) => c.checkpointId === 'cp-out-of-order');
    expect(outOfOrder).toMatchObject({ status: 'approved', waitMs: 8000, taskId: SCENARIO_TASK });
    expect(outOfOrder?.writes.map((w) => w.verdict)).toEqual(['approved']);
  });

  it('filters by tool, service, status and time, and pages', async () => {
    await allCheckpoints();
    const destroy = await getJson<CheckpointPage>('/api/checkpoints?tool=destroy');
    expect(destroy.checkpoints.map((c) => c.checkpointId).sort()).toEqual(['cp-reject', 'cp-rejected-ran']);
    expect(destroy.checkpoints.find((c) => c.checkpointId === 'cp-rejected-ran')?.writes[0]?.verdict).toBe(
      'unapproved',
    );
    expect((await getJson<CheckpointPage>(`/api/checkpoints?service=${SERVER_SERVICE}`)).total).toBe(9);
    expect((await getJson<CheckpointPage>('/api/checkpoints?service=nobody')).total).toBe(0);
    const recent = await getJson<CheckpointPage>(`/api/checkpoints?from=${Date.now() - 165_000}`);
    expect(recent.checkpoints.map((c) => c.checkpointId)).toEqual(['cp-pending']);
    const first = await getJson<CheckpointPage>('/api/checkpoints?limit=4');
    const second = await getJson<CheckpointPage>('/api/checkpoints?limit=4&offset=4');
    expect(first.checkpoints).toHaveLength(4);
    expect(new Set([...first.checkpoints, ...second.checkpoints].map((c) => c.checkpointId)).size).toBe(8);
    const bad = await fetch(`${collector.url}/api/checkpoints?status=maybe`);
    expect(bad.status).toBe(400);
  });
});

describe('writes', () => {
  it('counts each write under its verdict and lists the orphaned one', async () => {
    await allCheckpoints();
    const page = await getJson<{ total: number; counts: Record<string, number>; writes: WriteView[] }>(
      '/api/writes?limit=100',
    );
    expect(page.counts).toEqual(scenarioTruth.writes);
    expect(page.total).toBe(8);
    const modified = page.writes.filter((w) => w.verdict === 'modified').map((w) => w.checkpointId);
    expect(modified).toEqual(['cp-modified']);
    const stale = page.writes.filter((w) => w.verdict === 'stale').map((w) => w.checkpointId);
    expect(stale).toEqual(['cp-stale']);
    const orphaned = await getJson<{ total: number; writes: WriteView[] }>('/api/orphaned-writes');
    expect(orphaned.total).toBe(scenarioTruth.writes.orphaned);
    expect(orphaned.writes[0]).toMatchObject({
      tool: scenarioTruth.orphanedTool,
      destructive: 'true',
      callerErrorType: 'timeout',
      verdict: 'approved',
    });
  });
});

describe('GET /api/tasks/:id', () => {
  it("shows the task's checkpoints, outcome counts, wait percentiles and write verdicts", async () => {
    await allCheckpoints();
    const detail = await getJson<{
      checkpoints: {
        outcomes: Record<string, number>;
        waitMs: { p50: number; p95: number; max: number };
        writes: Record<string, number>;
        checkpoints: CheckpointView[];
      };
    }>(`/api/tasks/${SCENARIO_TASK}`);
    expect(detail.checkpoints.outcomes).toEqual(scenarioTruth.checkpoints);
    expect(detail.checkpoints.waitMs).toEqual(scenarioTruth.waitMs);
    expect(detail.checkpoints.writes).toEqual(scenarioTruth.writes);
    expect(detail.checkpoints.checkpoints).toHaveLength(9);
  });
});

describe('metrics', () => {
  const sample = (text: string, name: string, labels: Record<string, string>): number | undefined => {
    for (const line of text.split('\n')) {
      if (!line.startsWith(`${name}{`)) continue;
      const body = line.slice(name.length + 1, line.lastIndexOf('}'));
      const pairs = Object.fromEntries(
        [...body.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1] as string, m[2] as string]),
      );
      if (Object.entries(labels).every(([k, v]) => pairs[k] === v)) return Number(line.split(' ').at(-1));
    }
    return undefined;
  };

  it('count checkpoints by outcome, writes by verdict, orphaned writes and what is pending', async () => {
    await allCheckpoints();
    const s = { service_name: SERVER_SERVICE };
    const text = await eventually(
      async () => {
        const body = await (await fetch(`${collector.url}/metrics`)).text();
        return sample(body, 'mcpscope_writes_total', {
          ...s,
          gen_ai_tool_name: 'import',
          verdict: 'unapproved',
        }) === 1 &&
          sample(body, 'mcpscope_checkpoints_total', {
            ...s,
            gen_ai_tool_name: 'apply',
            outcome: 'approved',
          }) === 5
          ? body
          : undefined;
      },
      { what: 'settled checkpoint metrics', timeoutMs: 20_000 },
    );
    const apply = { ...s, gen_ai_tool_name: 'apply' };
    const destroy = { ...s, gen_ai_tool_name: 'destroy' };
    expect(sample(text, 'mcpscope_checkpoints_total', { ...destroy, outcome: 'rejected' })).toBe(2);
    expect(sample(text, 'mcpscope_checkpoints_total', { ...apply, outcome: 'expired' })).toBe(1);
    expect(sample(text, 'mcpscope_checkpoint_wait_seconds_count', apply)).toBe(6);
    expect(sample(text, 'mcpscope_checkpoint_wait_seconds_sum', apply)).toBe(4 + 5 + 6 + 7 + 8 + 60);
    expect(sample(text, 'mcpscope_writes_total', { ...apply, verdict: 'approved' })).toBe(3);
    expect(sample(text, 'mcpscope_writes_total', { ...apply, verdict: 'stale' })).toBe(1);
    expect(sample(text, 'mcpscope_writes_total', { ...apply, verdict: 'modified' })).toBe(1);
    expect(sample(text, 'mcpscope_writes_total', { ...apply, verdict: 'unapproved' })).toBe(0);
    expect(sample(text, 'mcpscope_writes_total', { ...destroy, verdict: 'unapproved' })).toBe(1);
    expect(sample(text, 'mcpscope_orphaned_writes_total', { ...apply, destructive: 'true' })).toBe(1);
    expect(sample(text, 'mcpscope_orphaned_writes_total', { ...destroy, destructive: 'true' })).toBe(0);
    expect(sample(text, 'mcpscope_checkpoints_pending', apply)).toBe(1);
    expect(sample(text, 'mcpscope_checkpoint_pending_oldest_seconds', s)).toBeGreaterThanOrEqual(150);
  });
});
