import {
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  ATTR_MCPSCOPE_AUTH_OUTCOME,
  ATTR_MCPSCOPE_AUTH_REASON,
  ATTR_MCPSCOPE_AUTH_SIDE,
  ATTR_MCPSCOPE_FEEDBACK_NOTE,
  ATTR_MCPSCOPE_FEEDBACK_VERDICT,
  ATTR_MCPSCOPE_TASK_ID,
  AUTH_SPAN_NAME,
} from '@mcpscope/instrumentation/conventions';
import type { SpanRecord } from '../../model/span.js';
import { makeSpan, toolCallSpan, traceId } from './spans.js';

const usage = (input: number, output: number) => ({
  [ATTR_GEN_AI_USAGE_INPUT_TOKENS]: input,
  [ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: output,
});

/**
 * A workload with known truth, delivered in three batches: the third repeats the first (an
 * exporter retrying after a lost answer), and the second carries late spans of earlier tasks.
 */
export const workloadBatches = (): SpanRecord[][] => {
  const batch1: SpanRecord[] = [
    // task-a, trace a1: agent calls infra-server; apply_changes fails, its retry arrives late.
    makeSpan({
      trace: 'a1',
      span: 'a1-root',
      name: 'agent.run',
      startMs: 0,
      durationMs: 1000,
      service: 'agent',
      attributes: { [ATTR_MCPSCOPE_TASK_ID]: 'task-a' },
    }),
    toolCallSpan({
      trace: 'a1',
      span: 'c1',
      parent: 'a1-root',
      kind: 'client',
      startMs: 10,
      durationMs: 100,
      service: 'agent',
      tool: 'plan_changes',
      fingerprint: 'fp-a',
      arguments: { env: 'prod', token: '[REDACTED]' },
    }),
    toolCallSpan({
      trace: 'a1',
      span: 's1',
      parent: 'c1',
      kind: 'server',
      startMs: 20,
      durationMs: 80,
      service: 'infra-server',
      tool: 'plan_changes',
      fingerprint: 'fp-a',
    }),
    toolCallSpan({
      trace: 'a1',
      span: 'c2',
      parent: 'a1-root',
      kind: 'client',
      startMs: 200,
      durationMs: 50,
      service: 'agent',
      tool: 'apply_changes',
      fingerprint: 'fp-b',
      errorType: 'tool_error',
    }),
    toolCallSpan({
      trace: 'a1',
      span: 's2',
      parent: 'c2',
      kind: 'server',
      startMs: 205,
      durationMs: 40,
      service: 'infra-server',
      tool: 'apply_changes',
      fingerprint: 'fp-b',
      errorType: 'tool_error',
    }),
    // Usage on a chain span and on its model span: only the model span counts.
    makeSpan({
      trace: 'a1',
      span: 'chain',
      parent: 'a1-root',
      name: 'chain',
      startMs: 400,
      durationMs: 200,
      service: 'agent',
      attributes: usage(100, 50),
    }),
    makeSpan({
      trace: 'a1',
      span: 'chat',
      parent: 'chain',
      name: 'chat',
      kind: 'client',
      startMs: 410,
      durationMs: 150,
      service: 'agent',
      attributes: usage(80, 40),
    }),
    makeSpan({
      trace: 'a1',
      span: 'chat2',
      parent: 'a1-root',
      name: 'chat',
      kind: 'client',
      startMs: 700,
      durationMs: 100,
      service: 'agent',
      attributes: usage(30, 10),
    }),

    // Trace-only task b: a JSON-RPC error, a retry that fails again, and a call without fingerprint.
    makeSpan({
      trace: 'b1',
      span: 'b-root',
      name: 'agent.run',
      startMs: 10_000,
      durationMs: 500,
      service: 'agent-b',
    }),
    toolCallSpan({
      trace: 'b1',
      span: 'b-c1',
      parent: 'b-root',
      kind: 'client',
      startMs: 10_010,
      durationMs: 20,
      service: 'agent-b',
      tool: 'delete_resource',
      fingerprint: 'fp-c',
      errorType: '-32603',
      error: true,
    }),
    toolCallSpan({
      trace: 'b1',
      span: 'b-c2',
      parent: 'b-root',
      kind: 'client',
      startMs: 10_100,
      durationMs: 30,
      service: 'agent-b',
      tool: 'delete_resource',
      fingerprint: 'fp-c',
      errorType: 'tool_error',
    }),
    toolCallSpan({
      trace: 'b1',
      span: 'b-c3',
      parent: 'b-root',
      kind: 'client',
      startMs: 10_200,
      durationMs: 5,
      service: 'agent-b',
      tool: 'list_things',
    }),

    // task-c: only the server is instrumented; its root span fails; an auth failure joins via the task id.
    toolCallSpan({
      trace: 'c1',
      span: 'c-s1',
      kind: 'server',
      startMs: 20_000,
      durationMs: 15,
      service: 'infra-server',
      tool: 'plan_changes',
      errorType: '-32602',
      error: true,
      attributes: { [ATTR_MCPSCOPE_TASK_ID]: 'task-c' },
    }),
    makeSpan({
      trace: 'c2',
      span: 'c-auth',
      name: AUTH_SPAN_NAME,
      kind: 'server',
      startMs: 20_100,
      durationMs: 1,
      service: 'infra-server',
      error: true,
      attributes: {
        [ATTR_MCPSCOPE_TASK_ID]: 'task-c',
        [ATTR_MCPSCOPE_AUTH_OUTCOME]: 'failure',
        [ATTR_MCPSCOPE_AUTH_REASON]: 'expired_token',
        [ATTR_MCPSCOPE_AUTH_SIDE]: 'server',
      },
    }),

    // task-d: a clean task with usage under alias names and an evaluator's verdict.
    makeSpan({
      trace: 'd1',
      span: 'd-root',
      name: 'agent.run',
      startMs: 30_000,
      durationMs: 300,
      service: 'agent',
      attributes: { [ATTR_MCPSCOPE_TASK_ID]: 'task-d' },
    }),
    toolCallSpan({
      trace: 'd1',
      span: 'd-c1',
      parent: 'd-root',
      kind: 'client',
      startMs: 30_010,
      durationMs: 70,
      service: 'agent',
      tool: 'plan_changes',
      fingerprint: 'fp-d',
    }),
    makeSpan({
      trace: 'd1',
      span: 'd-llm',
      parent: 'd-root',
      name: 'llm',
      kind: 'client',
      startMs: 30_100,
      durationMs: 100,
      service: 'agent',
      attributes: { 'llm.token_count.prompt': '12', 'llm.token_count.completion': 3 },
    }),
    makeSpan({
      trace: 'd1',
      span: 'd-eval',
      parent: 'd-root',
      name: 'evaluate',
      startMs: 30_250,
      durationMs: 10,
      service: 'agent',
      attributes: {
        [ATTR_MCPSCOPE_FEEDBACK_VERDICT]: 'correct',
        [ATTR_MCPSCOPE_FEEDBACK_NOTE]: 'plan matched the change',
      },
    }),

    // Trace e1 arrives without a task id: until the late span below, it is its own task.
    makeSpan({
      trace: 'e1',
      span: 'e-root',
      name: 'agent.run',
      startMs: 40_000,
      durationMs: 100,
      service: 'agent',
    }),
  ];
  const batch2: SpanRecord[] = [
    // Late: the retry of apply_changes that succeeds (task-a recovers).
    toolCallSpan({
      trace: 'a1',
      span: 'c3',
      parent: 'a1-root',
      kind: 'client',
      startMs: 300,
      durationMs: 60,
      service: 'agent',
      tool: 'apply_changes',
      fingerprint: 'fp-b',
    }),
    toolCallSpan({
      trace: 'a1',
      span: 's3',
      parent: 'c3',
      kind: 'server',
      startMs: 305,
      durationMs: 50,
      service: 'infra-server',
      tool: 'apply_changes',
      fingerprint: 'fp-b',
    }),
    // task-a continues in a second trace: the same arguments again after a success are not a retry.
    makeSpan({
      trace: 'a2',
      span: 'a2-root',
      name: 'agent.run',
      startMs: 2000,
      durationMs: 500,
      service: 'agent',
      attributes: { [ATTR_MCPSCOPE_TASK_ID]: 'task-a' },
    }),
    toolCallSpan({
      trace: 'a2',
      span: 'c4',
      parent: 'a2-root',
      kind: 'client',
      startMs: 2010,
      durationMs: 40,
      service: 'agent',
      tool: 'plan_changes',
      fingerprint: 'fp-a',
    }),
    // Late: a span of trace e1 names its task.
    toolCallSpan({
      trace: 'e1',
      span: 'e-c1',
      parent: 'e-root',
      kind: 'client',
      startMs: 40_010,
      durationMs: 20,
      service: 'agent',
      tool: 'list_things',
      attributes: { [ATTR_MCPSCOPE_TASK_ID]: 'task-e' },
    }),
  ];
  const batch3 = batch1.map((span) => ({ ...span }));
  return [batch1, batch2, batch3];
};

export interface TaskTruth {
  taskId: string;
  traceIds: string[];
  outcome: 'success' | 'recovered' | 'failed';
  startMs: number;
  durationMs: number;
  services: string[];
  toolCalls: number;
  failedCalls: number;
  retries: number;
  inputTokens: number;
  outputTokens: number;
  authFailures: number;
}

/** What the API must say about the workload after all batches, newest task first. */
export const WORKLOAD_TRUTH: TaskTruth[] = [
  {
    taskId: 'task-e',
    traceIds: [traceId('e1')],
    outcome: 'success',
    startMs: 40_000,
    durationMs: 100,
    services: ['agent'],
    toolCalls: 1,
    failedCalls: 0,
    retries: 0,
    inputTokens: 0,
    outputTokens: 0,
    authFailures: 0,
  },
  {
    taskId: 'task-d',
    traceIds: [traceId('d1')],
    outcome: 'success',
    startMs: 30_000,
    durationMs: 300,
    services: ['agent'],
    toolCalls: 1,
    failedCalls: 0,
    retries: 0,
    inputTokens: 12,
    outputTokens: 3,
    authFailures: 0,
  },
  {
    taskId: 'task-c',
    traceIds: [traceId('c1'), traceId('c2')].sort(),
    outcome: 'failed',
    startMs: 20_000,
    durationMs: 101,
    services: ['infra-server'],
    toolCalls: 1,
    failedCalls: 1,
    retries: 0,
    inputTokens: 0,
    outputTokens: 0,
    authFailures: 1,
  },
  {
    taskId: traceId('b1'),
    traceIds: [traceId('b1')],
    outcome: 'failed',
    startMs: 10_000,
    durationMs: 500,
    services: ['agent-b'],
    toolCalls: 3,
    failedCalls: 2,
    retries: 1,
    inputTokens: 0,
    outputTokens: 0,
    authFailures: 0,
  },
  {
    taskId: 'task-a',
    traceIds: [traceId('a1'), traceId('a2')].sort(),
    outcome: 'recovered',
    startMs: 0,
    durationMs: 2500,
    services: ['agent', 'infra-server'],
    toolCalls: 4,
    failedCalls: 1,
    retries: 1,
    inputTokens: 110,
    outputTokens: 50,
    authFailures: 0,
  },
];

export const WORKLOAD_SPAN_COUNT = 19 + 5;
