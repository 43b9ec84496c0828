import { context, ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ElicitRequestSchema, type ElicitResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_MCPSCOPE_ARGUMENTS_FINGERPRINT,
  ATTR_MCPSCOPE_CHECKPOINT_ARGUMENTS_FINGERPRINT,
  ATTR_MCPSCOPE_CHECKPOINT_EXPIRES_AT,
  ATTR_MCPSCOPE_CHECKPOINT_ID,
  ATTR_MCPSCOPE_CHECKPOINT_KIND,
  ATTR_MCPSCOPE_CHECKPOINT_MODE,
  ATTR_MCPSCOPE_CHECKPOINT_OUTCOME,
  ATTR_MCPSCOPE_CHECKPOINT_REQUESTED_AT,
  ATTR_MCPSCOPE_CHECKPOINT_REVIEWER,
  ATTR_MCPSCOPE_CHECKPOINT_STATE_VERSION,
  ATTR_MCPSCOPE_CHECKPOINT_STEP,
  ATTR_MCPSCOPE_TASK_ID,
  ATTR_MCPSCOPE_TOOL_DESTRUCTIVE,
  ATTR_MCPSCOPE_TOOL_IDEMPOTENT,
  ATTR_MCPSCOPE_TOOL_READ_ONLY,
} from '../conventions.js';
import { withTask } from '../task-context.js';
import { exportedText, setUpTracing } from '../test-support/tracing.js';
import {
  checkpoint,
  decideCheckpoint,
  proposeCheckpoint,
  recordStateVersion,
  withCheckpoint,
  type CheckpointTicket,
} from './index.js';

const GITHUB_TOKEN = `ghp_${'c0Ff3e'.repeat(6)}`;

let tracing: Awaited<ReturnType<typeof setUpTracing>>;
beforeAll(async () => {
  tracing = await setUpTracing({ toolAnnotations: { read_state: { readOnlyHint: true } } });
});
afterEach(() => tracing.exporter.reset());
afterAll(() => tracing.tearDown());

/** The answers the client's operator gives to elicitations, in order; `throw` fails the request. */
let answers: Array<ElicitResult | 'throw'> = [];

/** A v1 server whose `apply` asks for approval by elicitation inside the call, at state `v1:7`. */
const connectInfra = async () => {
  const server = new McpServer({ name: 'infra', version: '1.0.0' });
  server.registerTool(
    'apply',
    {
      inputSchema: { planId: z.string(), mode: z.enum(['form', 'url']).optional() },
      annotations: { destructiveHint: true },
    },
    async ({ planId, mode }) => {
      const answer = await server.server.elicitInput(
        mode === 'url'
          ? {
              mode: 'url',
              message: 'Approve in the console',
              url: 'https://approve.example/p',
              elicitationId: 'e-1',
            }
          : { message: `Apply ${planId}?`, requestedSchema: { type: 'object', properties: {} } },
        { timeout: 2_000 },
      );
      if (answer.action !== 'accept')
        return { isError: true, content: [{ type: 'text', text: 'not approved' }] };
      recordStateVersion('v1:7');
      return { content: [{ type: 'text', text: 'applied' }] };
    },
  );
  server.registerTool('read_state', { inputSchema: { workspace: z.string() } }, async () => ({
    content: [{ type: 'text', text: '{}' }],
  }));
  server.registerTool('plain', { inputSchema: {} }, async () => ({
    content: [{ type: 'text', text: 'ok' }],
  }));
  const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
  await server.connect(serverTransport);
  const client = new Client(
    { name: 'agent', version: '1.0.0' },
    { capabilities: { elicitation: { form: {}, url: {} } } },
  );
  client.setRequestHandler(ElicitRequestSchema, async () => {
    const answer = answers.shift();
    if (answer === 'throw' || answer === undefined) throw new Error('operator unreachable');
    return answer;
  });
  await client.connect(clientTransport);
  await client.listTools();
  return client;
};

const checkpointSpans = (step: 'propose' | 'decide') =>
  tracing.spans().filter((span) => span.attributes[ATTR_MCPSCOPE_CHECKPOINT_STEP] === step);
const toolCall = (tool: string, kind: SpanKind) =>
  tracing.spans().filter((span) => span.name === `tools/call ${tool}` && span.kind === kind);
const only = <T>(items: T[]): T => {
  expect(items).toHaveLength(1);
  return items[0] as T;
};
const idOf = (span: ReadableSpan) => span.attributes[ATTR_MCPSCOPE_CHECKPOINT_ID];

describe('checkpoints the protocol expresses: an elicitation during a tool call (SDK v1)', () => {
  it.each([
    [{ action: 'accept', content: {} } as ElicitResult, 'approved'],
    [{ action: 'decline' } as ElicitResult, 'rejected'],
    [{ action: 'cancel' } as ElicitResult, 'cancelled'],
    ['throw' as const, 'expired'],
  ])('answer %j is a checkpoint of the call, outcome %s', async (answer, outcome) => {
    const client = await connectInfra();
    answers = [answer];
    await client.callTool({ name: 'apply', arguments: { planId: 'p-1' } });

    const propose = only(checkpointSpans('propose'));
    const decide = only(checkpointSpans('decide'));
    const server = only(toolCall('apply', SpanKind.SERVER));
    expect(propose.name).toBe('checkpoint propose apply');
    expect(decide.name).toBe('checkpoint decide apply');
    for (const span of [propose, decide]) {
      expect(span.kind).toBe(SpanKind.INTERNAL);
      expect(span.attributes[ATTR_MCPSCOPE_CHECKPOINT_KIND]).toBe('elicitation');
      expect(span.attributes[ATTR_MCPSCOPE_CHECKPOINT_MODE]).toBe('form');
      expect(span.attributes[ATTR_GEN_AI_TOOL_NAME]).toBe('apply');
      // The action awaiting approval is the call itself: same arguments, same fingerprint.
      expect(span.attributes[ATTR_MCPSCOPE_CHECKPOINT_ARGUMENTS_FINGERPRINT]).toBe(
        server.attributes[ATTR_MCPSCOPE_ARGUMENTS_FINGERPRINT],
      );
      expect(span.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
    }
    expect(idOf(decide)).toBe(idOf(propose));
    expect(String(idOf(propose))).toMatch(/^cp-/);
    expect(decide.attributes[ATTR_MCPSCOPE_CHECKPOINT_OUTCOME]).toBe(outcome);
    expect(decide.attributes[ATTR_MCPSCOPE_CHECKPOINT_REQUESTED_AT]).toBe(
      propose.startTime[0] * 1000 + Math.floor(propose.startTime[1] / 1e6),
    );
    expect(decide.links.map((link) => link.context.spanId)).toEqual([propose.spanContext().spanId]);
    // The proposal is exported while it is pending: it ended before the answer came.
    expect(propose.endTime[0] * 1e9 + propose.endTime[1]).toBeLessThanOrEqual(
      decide.startTime[0] * 1e9 + decide.startTime[1],
    );
    expect(idOf(server)).toBe(idOf(propose));
    expect(server.attributes[ATTR_MCPSCOPE_CHECKPOINT_STATE_VERSION]).toBe(
      outcome === 'approved' ? 'v1:7' : undefined,
    );
  });

  it('records a URL-mode elicitation with its mode', async () => {
    const client = await connectInfra();
    answers = [{ action: 'accept' }];
    await client.callTool({ name: 'apply', arguments: { planId: 'p-2', mode: 'url' } });
    expect(only(checkpointSpans('decide')).attributes[ATTR_MCPSCOPE_CHECKPOINT_MODE]).toBe('url');
  });
});

describe('the checkpoint API for approvals that live in the app', () => {
  it('one line around an approval step: propose, decide, and the next call of the tool executes it', async () => {
    const client = await connectInfra();
    const args = { workspace: 'prod' };
    const ok = await withTask('task-approve', () =>
      checkpoint({ tool: 'read_state', arguments: args, stateVersion: 'v1:7' }, async () => ({
        approved: true,
        reviewer: 'alice',
      })),
    );
    expect(ok).toEqual({ approved: true, reviewer: 'alice' });
    await withTask('task-approve', () => client.callTool({ name: 'read_state', arguments: args }));

    const propose = only(checkpointSpans('propose'));
    const decide = only(checkpointSpans('decide'));
    expect(propose.attributes).toMatchObject({
      [ATTR_MCPSCOPE_CHECKPOINT_KIND]: 'app',
      [ATTR_GEN_AI_TOOL_NAME]: 'read_state',
      [ATTR_MCPSCOPE_CHECKPOINT_STATE_VERSION]: 'v1:7',
      [ATTR_MCPSCOPE_TASK_ID]: 'task-approve',
    });
    expect(decide.attributes).toMatchObject({
      [ATTR_MCPSCOPE_CHECKPOINT_OUTCOME]: 'approved',
      [ATTR_MCPSCOPE_CHECKPOINT_REVIEWER]: 'alice',
    });
    const caller = only(toolCall('read_state', SpanKind.CLIENT));
    const receiver = only(toolCall('read_state', SpanKind.SERVER));
    // Execution: both sides of the call name the checkpoint (the id travels in `_meta`).
    expect(idOf(caller)).toBe(idOf(propose));
    expect(idOf(receiver)).toBe(idOf(propose));
    expect(caller.attributes[ATTR_MCPSCOPE_ARGUMENTS_FINGERPRINT]).toBe(
      propose.attributes[ATTR_MCPSCOPE_CHECKPOINT_ARGUMENTS_FINGERPRINT],
    );
    // The checkpoint is claimed once: the next call of the tool executes none.
    tracing.exporter.reset();
    await withTask('task-approve', () => client.callTool({ name: 'read_state', arguments: args }));
    expect(idOf(only(toolCall('read_state', SpanKind.CLIENT)))).toBeUndefined();
  });

  it('shows arguments modified after approval as a fingerprint that differs from the approved one', async () => {
    const client = await connectInfra();
    await checkpoint({ tool: 'read_state', arguments: { workspace: 'staging' } }, () => true);
    await client.callTool({ name: 'read_state', arguments: { workspace: 'prod' } });
    const propose = only(checkpointSpans('propose'));
    const receiver = only(toolCall('read_state', SpanKind.SERVER));
    expect(idOf(receiver)).toBe(idOf(propose));
    expect(receiver.attributes[ATTR_MCPSCOPE_ARGUMENTS_FINGERPRINT]).not.toBe(
      propose.attributes[ATTR_MCPSCOPE_CHECKPOINT_ARGUMENTS_FINGERPRINT],
    );
  });

  it('records rejected, expired (a deadline passed, or the approval step threw) and cancelled answers', async () => {
    await checkpoint({ tool: 'plain' }, () => false);
    await checkpoint({ tool: 'plain', expiresAt: new Date(1_900_000_000_000) }, () => 'expired' as const);
    await expect(
      checkpoint({ tool: 'plain' }, () => Promise.reject(new Error('queue gone'))),
    ).rejects.toThrow();
    await checkpoint({ tool: 'plain' }, () => ({ action: 'cancel' }));
    expect(
      checkpointSpans('decide').map((span) => span.attributes[ATTR_MCPSCOPE_CHECKPOINT_OUTCOME]),
    ).toEqual(['rejected', 'expired', 'expired', 'cancelled']);
    expect(checkpointSpans('propose')[1]?.attributes[ATTR_MCPSCOPE_CHECKPOINT_EXPIRES_AT]).toBe(
      1_900_000_000_000,
    );
  });

  it('across processes and traces: a JSON ticket, a decision linked to the proposal, an explicit execution', async () => {
    const client = await connectInfra();
    const tracer = trace.getTracer('agent');
    const ticketJson = tracer.startActiveSpan('invoke_agent planner', (root) => {
      const ticket = proposeCheckpoint({
        id: 'queue-item-42',
        tool: 'plain',
        arguments: {},
        stateVersion: 'v1:7',
      });
      root.end();
      return JSON.stringify(ticket);
    });
    // The reviewer's process: another trace, only the ticket.
    context.with(ROOT_CONTEXT, () =>
      decideCheckpoint(JSON.parse(ticketJson) as CheckpointTicket, {
        outcome: 'approved',
        reviewer: `bob (token ${GITHUB_TOKEN})`,
      }),
    );
    await withCheckpoint('queue-item-42', () => client.callTool({ name: 'plain', arguments: {} }), {
      stateVersion: 'v1:8',
    });

    const propose = only(checkpointSpans('propose'));
    const decide = only(checkpointSpans('decide'));
    expect(decide.spanContext().traceId).not.toBe(propose.spanContext().traceId);
    expect(decide.links.map((link) => link.context.spanId)).toEqual([propose.spanContext().spanId]);
    expect(idOf(decide)).toBe('queue-item-42');
    expect(String(decide.attributes[ATTR_MCPSCOPE_CHECKPOINT_REVIEWER])).toContain('bob');
    expect(exportedText(tracing.spans())).not.toContain(GITHUB_TOKEN);
    const caller = only(toolCall('plain', SpanKind.CLIENT));
    expect(caller.attributes).toMatchObject({
      [ATTR_MCPSCOPE_CHECKPOINT_ID]: 'queue-item-42',
      [ATTR_MCPSCOPE_CHECKPOINT_STATE_VERSION]: 'v1:8',
    });
    expect(idOf(only(toolCall('plain', SpanKind.SERVER)))).toBe('queue-item-42');
  });

  it('an elicitation wrapped by checkpoint() is that one checkpoint, with its state version', async () => {
    const server = new McpServer({ name: 'infra', version: '1.0.0' });
    server.registerTool('apply', { inputSchema: { planId: z.string() } }, async () => {
      const answer = await checkpoint({ stateVersion: 'v1:6' }, () =>
        server.server.elicitInput({ message: 'Apply?', requestedSchema: { type: 'object', properties: {} } }),
      );
      recordStateVersion('v1:7');
      return { content: [{ type: 'text', text: answer.action }] };
    });
    const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
    await server.connect(serverTransport);
    const client = new Client(
      { name: 'agent', version: '1.0.0' },
      { capabilities: { elicitation: { form: {} } } },
    );
    client.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept', content: {} }));
    await client.connect(clientTransport);
    await client.callTool({ name: 'apply', arguments: { planId: 'p-9' } });

    const propose = only(checkpointSpans('propose'));
    const receiver = only(toolCall('apply', SpanKind.SERVER));
    expect(propose.attributes).toMatchObject({
      [ATTR_GEN_AI_TOOL_NAME]: 'apply',
      [ATTR_MCPSCOPE_CHECKPOINT_STATE_VERSION]: 'v1:6',
      [ATTR_MCPSCOPE_CHECKPOINT_ARGUMENTS_FINGERPRINT]:
        receiver.attributes[ATTR_MCPSCOPE_ARGUMENTS_FINGERPRINT],
    });
    expect(only(checkpointSpans('decide')).attributes[ATTR_MCPSCOPE_CHECKPOINT_OUTCOME]).toBe('approved');
    // Stale: executed at v1:7 what was proposed at v1:6.
    expect(receiver.attributes).toMatchObject({
      [ATTR_MCPSCOPE_CHECKPOINT_ID]: idOf(propose),
      [ATTR_MCPSCOPE_CHECKPOINT_STATE_VERSION]: 'v1:7',
    });
  });
});

describe('tool annotations on tools/call spans', () => {
  it('records declared hints with the spec defaults, the user override, and nothing for undeclared tools', async () => {
    const client = await connectInfra();
    answers = [{ action: 'accept' }];
    await client.callTool({ name: 'apply', arguments: { planId: 'p-3' } });
    await client.callTool({ name: 'read_state', arguments: { workspace: 'prod' } });
    await client.callTool({ name: 'plain', arguments: {} });
    for (const kind of [SpanKind.CLIENT, SpanKind.SERVER]) {
      expect(only(toolCall('apply', kind)).attributes).toMatchObject({
        [ATTR_MCPSCOPE_TOOL_READ_ONLY]: false,
        [ATTR_MCPSCOPE_TOOL_DESTRUCTIVE]: true,
        [ATTR_MCPSCOPE_TOOL_IDEMPOTENT]: false,
      });
      expect(only(toolCall('read_state', kind)).attributes[ATTR_MCPSCOPE_TOOL_READ_ONLY]).toBe(true);
      expect(only(toolCall('plain', kind)).attributes[ATTR_MCPSCOPE_TOOL_READ_ONLY]).toBeUndefined();
    }
  });

  it('reads what the server registered when no client listed the tools: the server side knows its writes', async () => {
    const server = new McpServer({ name: 'registry', version: '1.0.0' });
    server.registerTool(
      'destroy_bucket',
      { inputSchema: { bucket: z.string() }, annotations: { destructiveHint: true, idempotentHint: true } },
      async () => ({ content: [{ type: 'text', text: 'gone' }] }),
    );
    const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
    await server.connect(serverTransport);
    const client = new Client({ name: 'agent', version: '1.0.0' });
    await client.connect(clientTransport);
    await client.callTool({ name: 'destroy_bucket', arguments: { bucket: 'logs' } });
    expect(only(toolCall('destroy_bucket', SpanKind.SERVER)).attributes).toMatchObject({
      [ATTR_MCPSCOPE_TOOL_READ_ONLY]: false,
      [ATTR_MCPSCOPE_TOOL_DESTRUCTIVE]: true,
      [ATTR_MCPSCOPE_TOOL_IDEMPOTENT]: true,
    });
    // The caller never listed the tools: it does not know.
    expect(
      only(toolCall('destroy_bucket', SpanKind.CLIENT)).attributes[ATTR_MCPSCOPE_TOOL_READ_ONLY],
    ).toBeUndefined();
    expect(tracing.spans().filter((span) => span.name === 'tools/list')).toEqual([]);
  });
});
