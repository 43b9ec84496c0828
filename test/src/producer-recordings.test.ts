/**
 * OTLP recorded from real producers (LangChain.js traced by OpenInference's and by Traceloop's
 * LangChain and OpenAI instrumentations, MCP traced by mcpscope and by Traceloop), replayed into a real
 * collector scraped by a real Prometheus. Each task's truth is what the recorded programs did
 * (`*.truth.json`, written by `fixtures/producers/record.cjs`), never what a collector said.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertmanagerConfig, defaultAlertsConfig, renderPrometheusRules } from '../../alerts/src/index.js';
import { stringify } from 'yaml';
import { collectorConfig, startCollector, type RunningCollector, type TaskDetail } from '@mcpscope/collector';
import { ensureDebianTool } from './support/debian-tools.js';
import {
  loadRecording,
  PRODUCER_STACKS as STACKS,
  PRODUCER_SECRET as SECRET,
  shiftedToNow,
  spansOf,
  type OtlpRequest,
  type Recording,
} from './support/producer-recordings.js';
import { eventually } from './support/processes.js';
import { startPrometheusStack, type PrometheusStack } from './support/prometheus-stack.js';

let dir: string;
let collector: RunningCollector;
let stack: PrometheusStack;
const recordings: Recording[] = [];

const post = async (request: OtlpRequest) => {
  const response = await fetch(`${collector.url}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(request),
  });
  expect(response.status).toBe(200);
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mcpscope-recordings-'));
  collector = await startCollector(
    collectorConfig({ httpPort: 0, grpcPort: 0, batchIntervalMs: 2, dbPath: join(dir, 'mcpscope.duckdb') }),
  );
  ensureDebianTool('prometheus');
  stack = await startPrometheusStack({
    dir,
    collectorTarget: new URL(collector.url).host,
    rules: renderPrometheusRules(defaultAlertsConfig),
    alertmanagerConfig: stringify(alertmanagerConfig()),
    alertmanagerBinary: ensureDebianTool('alertmanager'),
  });
  for (const name of STACKS) recordings.push(await loadRecording(name));
  // OpenInference's recording as exported; Traceloop's backwards, each request rolled up before the
  // next, so the MCP server's spans are rolled up before the agent's that called them.
  for (const recording of recordings) {
    const requests = shiftedToNow(recording.requests);
    if (recording.stack === 'traceloop') requests.reverse();
    for (const request of requests) {
      await post(request);
      await fetch(`${collector.url}/api/tasks`);
    }
  }
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  await collector?.close();
  await rm(dir, { recursive: true, force: true });
});

const rootTraceOf = (recording: Recording, rootSpan: string): string => {
  const root = recording.requests.flatMap(spansOf).find((span) => span.name === rootSpan);
  if (root === undefined) throw new Error(`no span ${rootSpan} in the ${recording.stack} recording`);
  return root.traceId;
};

describe('recorded OTLP from real producers', () => {
  for (const name of STACKS) {
    it(`${name}: every task's figures equal what the programs did, and nothing else is a task`, async () => {
      const recording = recordings.find((candidate) => candidate.stack === name)!;
      expect(recording.truth.tasks.length).toBeGreaterThanOrEqual(4);
      const taskIds: string[] = [];
      for (const truth of recording.truth.tasks) {
        const taskId = rootTraceOf(recording, truth.rootSpan);
        taskIds.push(taskId);
        const response = await fetch(`${collector.url}/api/tasks/${taskId}`);
        expect(response.status, truth.task).toBe(200);
        const text = await response.text();
        expect(text).not.toContain(SECRET);
        const { task, calls } = JSON.parse(text) as TaskDetail;
        expect({ task: truth.task, ...task }, truth.task).toMatchObject({
          task: truth.task,
          outcome: truth.outcome,
          toolCalls: truth.toolCalls,
          failedCalls: truth.failedCalls,
          retries: truth.retries,
          inputTokens: truth.inputTokens,
          outputTokens: truth.outputTokens,
        });
        // A call is the caller's, whichever side arrived first, with the tool the pair names.
        for (const call of calls) expect(call.service, truth.task).toBe(`${name}-agent`);
        expect([...new Set(calls.map((call) => call.tool))].sort(), truth.task).toEqual(truth.tools);
      }
      const listed = (await (
        await fetch(`${collector.url}/api/tasks?service=${name}-agent&limit=100`)
      ).json()) as {
        tasks: { taskId: string }[];
      };
      expect(listed.tasks.map((task) => task.taskId).sort()).toEqual([...taskIds].sort());
    });
  }

  it('Prometheus reads each call and each retry once, on the caller, with its tool named', async () => {
    const truths = recordings.flatMap((recording) => recording.truth.tasks);
    const calls = truths.reduce((sum, task) => sum + task.toolCalls, 0);
    const retries = truths.reduce((sum, task) => sum + task.retries, 0);
    const handled = recordings.reduce((sum, recording) => sum + recording.truth.serverHandled.length, 0);
    expect(calls).toBe(handled);
    const scalar = async (expr: string) => {
      const vector = await stack.query(expr);
      return vector.length === 0 ? undefined : Number(vector[0]!.value[1]);
    };
    await eventually(
      async () => ((await scalar('sum(mcpscope_tool_call_retries_total)')) === retries ? true : undefined),
      { timeoutMs: 60_000 },
    );
    expect(await scalar('sum(mcpscope_tool_call_retries_total{service_name="infra-mcp"})')).toBeUndefined();
    for (const recording of recordings) {
      const service = `${recording.stack}-agent`;
      const own = recording.truth.tasks;
      const ownRetries = own.reduce((sum, task) => sum + task.retries, 0);
      // The stdio server exports before its caller: its retry waits for the caller's span and counts
      // once, under the caller, in either order of arrival.
      expect(await scalar(`sum(mcpscope_tool_call_retries_total{service_name="${service}"})`)).toBe(
        ownRetries,
      );
      expect(
        await scalar(
          `sum(mcp_client_operation_duration_seconds_count{service_name="${service}",mcp_method_name="tools/call"})`,
        ),
      ).toBe(own.reduce((sum, task) => sum + task.toolCalls, 0));
      expect(
        await scalar(
          `sum(mcp_client_operation_duration_seconds_count{service_name="${service}",gen_ai_tool_name="refresh_state",error_type="tool_error"})`,
        ),
      ).toBe(1);
    }
    expect(
      await scalar('sum(mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call"})'),
    ).toBe(handled);
    expect(
      await scalar(
        'count(mcp_client_operation_duration_seconds_count{mcp_method_name="tools/call",gen_ai_tool_name=""})',
      ),
    ).toBeUndefined();
  });
});
