/**
 * Task-shaped spans as the instrumented examples produce them: an agent task is one trace with a
 * root span, LLM calls with token usage, tool calls seen by both caller and server (arguments with
 * a credential in them, for redaction to find), a tools/list; about one task in eight has a failed
 * call that the agent retries.
 */
import { randomBytes } from 'node:crypto';
import type { SpanRecord } from '../../../collector/src/model/span.js';

export const SPANS_PER_TASK = 10;

const SERVERS = [
  { service: 'infra-server', tools: ['list_instances', 'describe_stack', 'plan_changes', 'apply_changes'] },
  { service: 'runbook-server', tools: ['search_runbooks', 'read_runbook', 'open_incident'] },
  { service: 'metrics-server', tools: ['query_metrics', 'list_alerts', 'silence_alert', 'get_dashboard'] },
] as const;
const AGENTS = ['release-agent', 'oncall-agent', 'cost-agent'] as const;

const resourceFor = (service: string) => ({
  'service.name': service,
  'service.version': '1.4.2',
  'telemetry.sdk.language': 'nodejs',
  'telemetry.sdk.name': 'opentelemetry',
  'telemetry.sdk.version': '2.12.0',
  'host.name': 'worker-7',
});
const resources = new Map<string, SpanRecord['resourceAttributes']>();
const resource = (service: string) => {
  let attributes = resources.get(service);
  if (!attributes) resources.set(service, (attributes = resourceFor(service)));
  return attributes;
};

const hex = (bytes: number): string => randomBytes(bytes).toString('hex');

/** A small deterministic generator so repeated runs store the same shape of data. */
export const seededRandom = (seed: number) => {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
};

const pick = <T>(random: () => number, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

interface TaskOptions {
  random: () => number;
  /** When the task starts, Unix ms. */
  startMs: number;
}

const ms = (value: number): bigint => BigInt(Math.round(value * 1000)) * 1000n;

/** One task: exactly {@link SPANS_PER_TASK} spans of one trace. */
export const taskSpans = ({ random, startMs }: TaskOptions): SpanRecord[] => {
  const traceId = hex(16);
  const agent = pick(random, AGENTS);
  const server = pick(random, SERVERS);
  const taskId = `task-${hex(6)}`;
  const rootId = hex(8);
  const failing = random() < 0.125;
  const spans: SpanRecord[] = [];
  const base = (
    name: string,
    kind: SpanRecord['kind'],
    service: string,
    parent: string | null,
    offsetMs: number,
    durationMs: number,
    attributes: SpanRecord['attributes'],
  ): SpanRecord => ({
    traceId,
    spanId: parent === null ? rootId : hex(8),
    parentSpanId: parent,
    name,
    kind,
    startTimeUnixNano: ms(startMs + offsetMs),
    endTimeUnixNano: ms(startMs + offsetMs + durationMs),
    statusCode: 'unset',
    statusMessage: '',
    serviceName: service,
    scopeName: '@mcpscope/instrumentation',
    attributes: { 'mcpscope.task.id': taskId, ...attributes },
    resourceAttributes: resource(service),
    events: [],
    links: [],
  });

  const totalMs = 2000 + random() * 6000;
  spans.push(
    base(`agent.task ${agent}`, 'internal', agent, null, 0, totalMs, { 'gen_ai.agent.name': agent }),
  );
  for (let llm = 0; llm < 2; llm += 1) {
    spans.push(
      base('chat gpt-4.1', 'client', agent, rootId, 50 + llm * 1500, 400 + random() * 900, {
        'gen_ai.operation.name': 'chat',
        'gen_ai.request.model': 'gpt-4.1',
        'gen_ai.usage.input_tokens': 800 + Math.floor(random() * 4000),
        'gen_ai.usage.output_tokens': 50 + Math.floor(random() * 600),
      }),
    );
  }
  spans.push(
    base('tools/list', 'client', agent, rootId, 20, 3 + random() * 5, {
      'mcp.method.name': 'tools/list',
      'jsonrpc.request.id': '1',
      'network.transport': 'pipe',
    }),
  );
  const tool = pick(random, server.tools);
  const fingerprint = hex(16);
  for (let call = 0; call < 3; call += 1) {
    const retryOfFailure = failing && call === 1;
    const failed = failing && call === 0;
    const toolName = retryOfFailure || failed ? tool : pick(random, server.tools);
    const callArguments = JSON.stringify({
      region: pick(random, ['eu-west-1', 'us-east-1', 'ap-southeast-2']),
      workspace: `ws-${Math.floor(random() * 40)}`,
      limit: 50,
      // What redaction exists for: a credential an agent passed along.
      connection: 'postgres://deployer:Sup3r-s3cret-pw@db.internal.example:5432/payments',
    });
    const callStart = 2100 + call * 900;
    const duration = 20 + random() * 400;
    const toolAttributes = {
      'mcp.method.name': 'tools/call',
      'gen_ai.tool.name': toolName,
      'gen_ai.operation.name': 'execute_tool',
      'jsonrpc.request.id': String(call + 2),
      'mcp.session.id': traceId.slice(0, 12),
      'mcp.protocol.version': '2025-06-18',
      'network.transport': 'pipe',
      'gen_ai.tool.call.arguments': callArguments,
      'mcpscope.arguments.fingerprint': retryOfFailure || failed ? fingerprint : hex(16),
      'mcpscope.result.size': 300 + Math.floor(random() * 3000),
      ...(failed ? { 'error.type': 'tool_error' } : {}),
    };
    const client = base(
      `tools/call ${toolName}`,
      'client',
      agent,
      rootId,
      callStart,
      duration + 4,
      toolAttributes,
    );
    const serverSpan = base(
      `tools/call ${toolName}`,
      'server',
      server.service,
      client.spanId,
      callStart + 1,
      duration,
      toolAttributes,
    );
    if (failed) {
      client.statusCode = 'error';
      serverSpan.statusCode = 'error';
    }
    spans.push(client, serverSpan);
  }
  return spans;
};

/** `count` tasks spread evenly over `[fromMs, toMs)`. */
export const tasksBetween = (count: number, fromMs: number, toMs: number, seed = 1): SpanRecord[] => {
  const random = seededRandom(seed);
  const spans: SpanRecord[] = [];
  const step = (toMs - fromMs) / Math.max(1, count);
  for (let task = 0; task < count; task += 1)
    spans.push(...taskSpans({ random, startMs: fromMs + task * step }));
  return spans;
};
