import { createHash } from 'node:crypto';
import {
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  ATTR_MCP_METHOD_NAME,
  ATTR_MCPSCOPE_ARGUMENTS_FINGERPRINT,
  ATTR_MCPSCOPE_TASK_ID,
} from '@mcpscope/instrumentation/conventions';

/** What the API must say about one task, computed from the workload alone. */
export interface TaskTruth {
  taskId: string;
  outcome: 'success' | 'recovered' | 'failed';
  toolCalls: number;
  failedCalls: number;
  retries: number;
  inputTokens: number;
  outputTokens: number;
}

interface JsonSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: Array<{ key: string; value: { stringValue?: string; intValue?: string } }>;
  status: { code?: number };
}

const hex = (seed: string, bytes: number) =>
  createHash('sha256')
    .update(seed)
    .digest('hex')
    .slice(0, bytes * 2);
const text = (key: string, value: string) => ({ key, value: { stringValue: value } });
const int = (key: string, value: number) => ({ key, value: { intValue: String(value) } });

/**
 * Agent tasks of three shapes, one trace each: a tool call that succeeds; one that fails and is
 * retried successfully; one that fails for good. Each also has an LLM step with token usage.
 */
export const crashWorkload = (taskCount: number, runId: string) => {
  const spans: JsonSpan[] = [];
  const truths: TaskTruth[] = [];
  const base = BigInt(Date.now() - 60_000) * 1_000_000n;
  const ms = (value: number) => String(base + BigInt(value) * 1_000_000n);

  for (let index = 0; index < taskCount; index += 1) {
    const taskId = `${runId}-task-${index}`;
    const traceId = hex(`${taskId}-trace`, 16);
    const rootId = hex(`${taskId}-root`, 8);
    const at = index * 10;
    const shape = index % 3;
    spans.push({
      traceId,
      spanId: rootId,
      name: 'agent.run',
      kind: 1,
      startTimeUnixNano: ms(at),
      endTimeUnixNano: ms(at + 9),
      attributes: [text(ATTR_MCPSCOPE_TASK_ID, taskId)],
      status: shape === 2 ? { code: 2 } : {},
    });
    const inputTokens = 100 + index;
    const outputTokens = 10 + index;
    spans.push({
      traceId,
      spanId: hex(`${taskId}-llm`, 8),
      parentSpanId: rootId,
      name: 'chat plan',
      kind: 3,
      startTimeUnixNano: ms(at + 1),
      endTimeUnixNano: ms(at + 2),
      attributes: [
        text(ATTR_GEN_AI_OPERATION_NAME, 'chat'),
        int(ATTR_GEN_AI_USAGE_INPUT_TOKENS, inputTokens),
        int(ATTR_GEN_AI_USAGE_OUTPUT_TOKENS, outputTokens),
      ],
      status: {},
    });
    const attempts = shape === 0 ? [true] : shape === 1 ? [false, true] : [false];
    attempts.forEach((succeeds, attempt) => {
      spans.push({
        traceId,
        spanId: hex(`${taskId}-call-${attempt}`, 8),
        parentSpanId: rootId,
        name: 'tools/call apply_changes',
        kind: 3,
        startTimeUnixNano: ms(at + 3 + attempt * 2),
        endTimeUnixNano: ms(at + 4 + attempt * 2),
        attributes: [
          text(ATTR_MCP_METHOD_NAME, 'tools/call'),
          text(ATTR_GEN_AI_TOOL_NAME, 'apply_changes'),
          text(ATTR_GEN_AI_OPERATION_NAME, 'execute_tool'),
          text(ATTR_MCPSCOPE_ARGUMENTS_FINGERPRINT, hex(`${taskId}-arguments`, 8)),
          ...(succeeds ? [] : [text(ATTR_ERROR_TYPE, 'tool_error')]),
        ],
        status: succeeds ? {} : { code: 2 },
      });
    });
    truths.push({
      taskId,
      outcome: shape === 0 ? 'success' : shape === 1 ? 'recovered' : 'failed',
      toolCalls: attempts.length,
      failedCalls: attempts.filter((succeeds) => !succeeds).length,
      retries: shape === 1 ? 1 : 0,
      inputTokens,
      outputTokens,
    });
  }
  return { spans, truths };
};

/** Shuffles deterministically, then cuts into OTLP/JSON request bodies: a task's spans often land in different requests. */
export const requestBodies = (
  spans: readonly JsonSpan[],
  spansPerRequest: number,
  serviceName: string,
): string[] => {
  const order = spans
    .map((span, index) => ({ span, key: hex(`${index}-${span.spanId}`, 4) }))
    .sort((left, right) => left.key.localeCompare(right.key))
    .map(({ span }) => span);
  const bodies: string[] = [];
  for (let start = 0; start < order.length; start += spansPerRequest) {
    bodies.push(
      JSON.stringify({
        resourceSpans: [
          {
            resource: { attributes: [text('service.name', serviceName)] },
            scopeSpans: [
              { scope: { name: 'crash-driver' }, spans: order.slice(start, start + spansPerRequest) },
            ],
          },
        ],
      }),
    );
  }
  return bodies;
};
