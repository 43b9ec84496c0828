import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkpointTruth, SECRET_VALUES, SERVICE_NAMES, TASKS } from './scenario.mjs';
import { checkpointVerdicts, sortedTruth } from './test-support/checkpoint-verdicts.js';
import { SPAN_KIND_CLIENT, SPAN_KIND_SERVER, startOtlpReceiver } from './test-support/otlp-receiver.js';
import { runScript, testEnv } from './test-support/processes.js';

const RUN_TIMEOUT_MS = 90_000;

describe('demo agent telemetry', () => {
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
  let exitCode: number | null;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    const run = await runScript(
      'demo-agent.mjs',
      [],
      testEnv({
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_METRICS_EXPORTER: 'none',
        OTEL_LOGS_EXPORTER: 'none',
        OTEL_SERVICE_NAME: SERVICE_NAMES.agent,
        // One key in every process: a checkpoint's fingerprint compares with the server's call.
        MCPSCOPE_FINGERPRINT_KEY: 'demo-fingerprint-key-4c1e8b27',
      }),
      RUN_TIMEOUT_MS - 5_000,
    );
    exitCode = run.code;
  }, RUN_TIMEOUT_MS);
  afterAll(() => receiver.close());

  it('exports from every process under its own service name', () => {
    expect(exitCode).toBe(0);
    const services = new Set(receiver.spans().map((span) => span.service));
    expect([...services].sort()).toEqual(Object.values(SERVICE_NAMES).sort());
  });

  it('makes, in each task, exactly the tool calls of its truth, all carrying the task id', () => {
    const agentCalls = receiver
      .spans()
      .filter((span) => span.service === SERVICE_NAMES.agent && span.kind === SPAN_KIND_CLIENT)
      .filter((span) => span.attributes['mcp.method.name'] === 'tools/call');
    for (const task of TASKS) {
      const calls = agentCalls.filter((span) => span.attributes['mcpscope.task.id'] === task.id);
      expect({ task: task.id, calls: calls.length }).toEqual({ task: task.id, calls: task.truth.toolCalls });
    }
    expect(agentCalls.filter((span) => span.attributes['mcpscope.task.id'] === undefined)).toEqual([]);
  });

  it('records one root span per task and the token usage of every LLM step', () => {
    const spans = receiver.spans();
    expect(spans.filter((span) => span.name === 'invoke_agent demo-agent')).toHaveLength(TASKS.length);
    const chats = spans.filter((span) => span.attributes['gen_ai.operation.name'] === 'chat');
    const sum = (key: string) => chats.reduce((total, span) => total + Number(span.attributes[key]), 0);
    expect(sum('gen_ai.usage.input_tokens')).toBe(
      TASKS.reduce((total, task) => total + task.truth.inputTokens, 0),
    );
    expect(sum('gen_ai.usage.output_tokens')).toBe(
      TASKS.reduce((total, task) => total + task.truth.outputTokens, 0),
    );
    expect(new Set(chats.map((span) => span.attributes['gen_ai.request.model']))).toEqual(
      new Set(['demo-model']),
    );
  });

  it('exports none of the secrets in the arguments', () => {
    expect(receiver.bodies.length).toBeGreaterThan(0);
    for (const body of receiver.bodies)
      for (const secret of SECRET_VALUES) expect(body).not.toContain(secret);
  });

  it("records every task's human checkpoints, writes and orphaned writes as the scenario says", () => {
    const spans = receiver.spans();
    for (const task of TASKS) {
      const ofTask = spans.filter((span) => span.attributes['mcpscope.task.id'] === task.id);
      expect({ task: task.id, ...checkpointVerdicts(ofTask) }).toEqual({
        task: task.id,
        ...sortedTruth(checkpointTruth(task)),
      });
    }
  });

  it('links each decision to its proposal and puts the checkpoint id on both sides of the executing call', () => {
    const spans = receiver.spans();
    const steps = spans.filter((span) => span.attributes['mcpscope.checkpoint.step'] !== undefined);
    for (const decide of steps.filter((span) => span.attributes['mcpscope.checkpoint.step'] === 'decide')) {
      const id = decide.attributes['mcpscope.checkpoint.id'];
      const propose = steps.find(
        (span) =>
          span.attributes['mcpscope.checkpoint.step'] === 'propose' &&
          span.attributes['mcpscope.checkpoint.id'] === id,
      );
      expect(decide.links).toContainEqual({ traceId: propose?.traceId, spanId: propose?.spanId });
      expect(decide.attributes['mcpscope.checkpoint.requested_at']).toEqual(expect.any(Number));
    }
    // The modified apply: the agent's approval, claimed by its next apply call, travels in `_meta`.
    const applies = spans.filter(
      (span) =>
        span.attributes['mcpscope.task.id'] === 'tf-apply-modified' && span.name === 'tools/call apply',
    );
    expect(applies.map((span) => span.kind).sort()).toEqual([SPAN_KIND_SERVER, SPAN_KIND_CLIENT].sort());
    expect(new Set(applies.map((span) => span.attributes['mcpscope.checkpoint.id'])).size).toBe(1);
    expect(applies[0]?.attributes['mcpscope.checkpoint.id']).toEqual(expect.any(String));
  });
});
