import { afterEach, describe, expect, it } from 'vitest';
import { apiRoutes } from '../api/index.js';
import { IngestQueue } from '../pipeline/index.js';
import {
  ATTR_MCPSCOPE_AUTH_OUTCOME,
  ATTR_MCPSCOPE_AUTH_REASON,
  ATTR_MCPSCOPE_AUTH_SIDE,
  AUTH_SPAN_NAME,
} from '@mcpscope/instrumentation/conventions';
import { makeSpan, toolCallSpan } from '../pipeline/test-support/spans.js';
import { workloadBatches } from '../pipeline/test-support/workload.js';
import { openTempStore } from '../store/test-support/temp-store.js';
import { CheckpointMetrics } from './checkpoint-metrics.js';
import { CollectorMetrics } from './collector-metrics.js';
import { METRICS, OVERFLOW_LABEL_VALUE } from './names.js';

let cleanup: () => Promise<void> = async () => {};
afterEach(() => cleanup());

/** Sample lines of one metric family from the exposition, e.g. `name_count{labels} 3`. */
const samples = (exposition: string, name: string) =>
  exposition.split('\n').filter((line) => line.startsWith(name) && !line.startsWith('#'));

const value = (exposition: string, series: string): number | undefined => {
  const line = exposition.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

const labelNames = (line: string) =>
  [...(line.match(/\{(.*)\}/)?.[1] ?? '').matchAll(/(\w+)="/g)]
    .map((match) => match[1])
    .filter((n) => n !== 'le');

const setup = async (options: ConstructorParameters<typeof CollectorMetrics>[0] = {}) => {
  let clock = 1_000_000;
  const metrics = new CollectorMetrics({ ...options, now: () => clock });
  const opened = await openTempStore({ onRolledUp: (result, seconds) => metrics.rolledUp(result, seconds) });
  cleanup = opened.cleanup;
  const queue = new IngestQueue({
    store: opened.store,
    batchIntervalMs: 1,
    onCommitted: (result, seconds) => metrics.committed(result, seconds),
  });
  return { ...opened, metrics, queue, advance: (ms: number) => (clock += ms), now: () => clock };
};

/** A decided checkpoint, a pending one, and its write, orphaned: its caller timed out, its server finished. */
const checkpointSpans = () => {
  const step = (span: string, step: string, id: string, extra: Record<string, string | number> = {}) =>
    makeSpan({
      trace: `checkpoint-${span}`,
      span,
      name: `checkpoint ${step} apply_changes`,
      startMs: 60_000,
      durationMs: 1,
      service: 'infra',
      attributes: {
        'mcpscope.checkpoint.id': id,
        'mcpscope.checkpoint.step': step,
        'gen_ai.tool.name': 'apply_changes',
        ...extra,
      },
    });
  const write = {
    'mcp.method.name': 'tools/call',
    'gen_ai.tool.name': 'apply_changes',
    'mcpscope.checkpoint.id': 'cp-1',
    'mcpscope.tool.read_only': false,
    'mcpscope.tool.destructive': true,
  };
  return [
    step('propose-1', 'propose', 'cp-1'),
    step('decide-1', 'decide', 'cp-1', { 'mcpscope.checkpoint.outcome': 'approved' }),
    step('propose-2', 'propose', 'cp-2'),
    makeSpan({
      trace: 'write',
      span: 'write-caller',
      name: 'tools/call apply_changes',
      kind: 'client',
      startMs: 61_000,
      durationMs: 10,
      service: 'agent',
      error: true,
      attributes: { ...write, 'error.type': 'timeout' },
    }),
    makeSpan({
      trace: 'write',
      span: 'write-server',
      parent: 'write-caller',
      name: 'tools/call apply_changes',
      kind: 'server',
      startMs: 61_001,
      durationMs: 50,
      service: 'infra',
      attributes: write,
    }),
  ];
};

describe('collector metrics', () => {
  it('exposes every metric of names.ts with its labels, derived from committed spans only', async () => {
    const { metrics, queue, advance, store, now } = await setup({ taskSettleSeconds: 30 });
    for (const batch of workloadBatches()) await queue.accept(batch);
    const refresh = (span: string, reason: string, outcome: string) =>
      makeSpan({
        trace: 'refresh',
        span,
        name: AUTH_SPAN_NAME,
        kind: 'client',
        startMs: 50_000,
        durationMs: 5,
        service: 'agent',
        attributes: {
          [ATTR_MCPSCOPE_AUTH_OUTCOME]: outcome,
          [ATTR_MCPSCOPE_AUTH_REASON]: reason,
          [ATTR_MCPSCOPE_AUTH_SIDE]: 'client',
        },
      });
    await queue.accept([
      refresh('refreshed', 'token_refreshed', 'success'),
      refresh('refresh-failed', 'refresh_failed', 'failure'),
    ]);
    metrics.received('grpc', 10);
    metrics.rejected('http_json', 'malformed');
    metrics.authFailed('grpc', 'invalid_token');
    metrics.redacted({ bearer_token: 2 });
    metrics.forwarded('success', 3);
    metrics.commitFailed(2);
    metrics.queueDepth(0);
    metrics.queueCapacity(100);
    const feedback = await apiRoutes({
      store,
      onFeedback: (verdict) => metrics.feedbackRecorded(verdict),
    }).request('/api/tasks/task-a/feedback', {
      method: 'POST',
      body: JSON.stringify({ verdict: 'incorrect' }),
      headers: { 'content-type': 'application/json' },
    });
    expect(feedback.status).toBe(201);
    advance(29_000);
    expect(metrics.settleIdleTasks()).toBe(0);
    advance(1_000);
    // The workload's tasks; the two refresh spans, alone in their traces, are auth events, not tasks.
    expect(metrics.settleIdleTasks()).toBe(5);
    // Checkpoint metrics, from a store of their own so the counts above stay the workload's.
    const checkpointStore = await openTempStore();
    const workloadCleanup = cleanup;
    cleanup = async () => {
      await checkpointStore.cleanup();
      await workloadCleanup();
    };
    const checkpointMetrics = new CheckpointMetrics({
      registry: metrics.registry,
      store: checkpointStore.store,
      settleSeconds: 30,
      now,
    });
    checkpointMetrics.committed(await checkpointStore.store.commit(checkpointSpans()));
    advance(30_000);
    await checkpointMetrics.settle();
    await checkpointMetrics.refreshPending();

    const text = await metrics.exposition();
    for (const definition of Object.values(METRICS)) {
      expect(text).toContain(`# TYPE ${definition.name} ${definition.type}`);
      const lines = samples(text, definition.name);
      expect(lines.length, definition.name).toBeGreaterThan(0);
      for (const line of lines) expect(labelNames(line), line).toEqual([...definition.labels]);
    }
    expect(text).toContain('process_cpu_user_seconds_total');

    // The redelivered first batch is counted as duplicates, never as new spans or calls.
    expect(value(text, 'mcpscope_collector_spans_committed_total')).toBe(26);
    expect(value(text, 'mcpscope_collector_duplicate_spans_total')).toBe(19);
    expect(
      value(
        text,
        'mcp_client_operation_duration_seconds_count{service_name="agent",mcp_method_name="tools/call",gen_ai_tool_name="apply_changes",error_type="tool_error"}',
      ),
    ).toBe(1);
    expect(
      value(
        text,
        'mcp_server_operation_duration_seconds_count{service_name="infra-server",mcp_method_name="tools/call",gen_ai_tool_name="plan_changes",error_type=""}',
      ),
    ).toBe(1);
    expect(
      value(text, 'mcpscope_tool_call_retries_total{service_name="agent",gen_ai_tool_name="apply_changes"}'),
    ).toBe(1);
    expect(
      value(
        text,
        'mcpscope_tool_call_retries_total{service_name="agent-b",gen_ai_tool_name="delete_resource"}',
      ),
    ).toBe(1);
    expect(
      value(
        text,
        'mcpscope_auth_failures_total{service_name="infra-server",side="server",reason="expired_token"}',
      ),
    ).toBe(1);
    expect(
      value(
        text,
        'mcpscope_auth_failures_total{service_name="mcpscope-collector",side="collector",reason="invalid_token"}',
      ),
    ).toBe(1);
    expect(value(text, 'mcpscope_tasks_total{outcome="failed"}')).toBe(2);
    expect(value(text, 'mcpscope_tasks_total{outcome="recovered"}')).toBe(1);
    expect(value(text, 'mcpscope_tasks_total{outcome="success"}')).toBe(2);
    expect(value(text, 'mcpscope_auth_token_refreshes_total{service_name="agent",outcome="success"}')).toBe(
      1,
    );
    expect(value(text, 'mcpscope_auth_token_refreshes_total{service_name="agent",outcome="failure"}')).toBe(
      1,
    );
    expect(
      value(text, 'mcpscope_auth_failures_total{service_name="agent",side="client",reason="refresh_failed"}'),
    ).toBe(1);
    expect(value(text, 'mcpscope_task_feedback_total{verdict="correct"}')).toBe(1);
    expect(value(text, 'mcpscope_task_feedback_total{verdict="incorrect"}')).toBe(1);
    expect(value(text, 'mcpscope_task_tokens_sum{gen_ai_token_type="input"}')).toBe(122);
    expect(value(text, 'mcpscope_task_retries_sum')).toBe(2);

    // A settled task is not counted again when it is touched later.
    advance(60_000);
    expect(metrics.settleIdleTasks()).toBe(0);
  });

  it('folds tool names past the per-service cap into the overflow value', async () => {
    const { metrics, queue } = await setup({ maxToolsPerService: 2 });
    const calls = ['alpha', 'beta', 'gamma', 'delta'].map((tool, index) =>
      toolCallSpan({
        trace: 'cap',
        span: tool,
        kind: 'server',
        startMs: index,
        durationMs: 1,
        service: 'wide-server',
        tool,
      }),
    );
    await queue.accept(calls);
    const text = await metrics.exposition();
    const series = (tool: string) =>
      `mcp_server_operation_duration_seconds_count{service_name="wide-server",mcp_method_name="tools/call",gen_ai_tool_name="${tool}",error_type=""}`;
    expect(value(text, series('alpha'))).toBe(1);
    expect(value(text, series('beta'))).toBe(1);
    expect(value(text, series(OVERFLOW_LABEL_VALUE))).toBe(2);
    expect(value(text, series('gamma'))).toBeUndefined();
  });
});
