import { SpanKind } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { createMcpHandler, InMemoryTransport, inputRequired, McpServer } from '@modelcontextprotocol/server';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod4';
import {
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_MCPSCOPE_ARGUMENTS_FINGERPRINT,
  ATTR_MCPSCOPE_CHECKPOINT_ARGUMENTS_FINGERPRINT,
  ATTR_MCPSCOPE_CHECKPOINT_ID,
  ATTR_MCPSCOPE_CHECKPOINT_KIND,
  ATTR_MCPSCOPE_CHECKPOINT_OUTCOME,
  ATTR_MCPSCOPE_CHECKPOINT_STEP,
  ATTR_MCPSCOPE_CONTINUATION,
  ATTR_MCPSCOPE_TOOL_READ_ONLY,
} from '../conventions.js';
import { setUpTracing } from '../test-support/tracing.js';

let tracing: Awaited<ReturnType<typeof setUpTracing>>;
beforeAll(async () => {
  tracing = await setUpTracing();
});
afterEach(() => tracing.exporter.reset());
afterAll(() => tracing.tearDown());

/** What the operator answers, per elicitation. */
let operatorAction: 'accept' | 'decline' | 'cancel' = 'accept';

/** A v2 server whose `deploy` asks for confirmation: an input_required round (2026-07-28) or, legacy, an elicitation. */
const deployServer = () => {
  const server = new McpServer({ name: 'deploys', version: '2.0.0' });
  server.registerTool(
    'deploy',
    { inputSchema: z.object({ env: z.string() }), annotations: { readOnlyHint: false } },
    async ({ env }, ctx) => {
      const message = `Deploy to ${env}?`;
      const requestedSchema = { type: 'object' as const, properties: {} };
      if (ctx.mcpReq.inputResponses === undefined && ctx.mcpReq.elicitInput !== undefined) {
        try {
          const answer = await ctx.mcpReq.elicitInput({ message, requestedSchema });
          return { content: [{ type: 'text', text: answer.action }] };
        } catch {
          // A 2026-07-28 request cannot push an elicitation: ask with a round instead.
        }
      }
      const answer = ctx.mcpReq.inputResponses?.confirm as { action?: string } | undefined;
      if (answer === undefined)
        return inputRequired({
          inputRequests: { confirm: inputRequired.elicit({ message, requestedSchema }) },
        });
      return { content: [{ type: 'text', text: String(answer.action) }] };
    },
  );
  return server;
};

const client = async (mode: 'auto' | 'legacy') => {
  const agent = new Client(
    { name: 'agent', version: '1.0.0' },
    { versionNegotiation: { mode }, capabilities: { elicitation: { form: {} } } },
  );
  agent.setRequestHandler('elicitation/create', async () => ({ action: operatorAction, content: {} }));
  return agent;
};

const modernClient = async () => {
  const handler = createMcpHandler(deployServer);
  const agent = await client('auto');
  await agent.connect(
    new StreamableHTTPClientTransport(new URL('http://deploys.internal/mcp'), {
      fetch: (url, init) => handler.fetch(new Request(url, init)),
    }),
  );
  return agent;
};

const legacyClient = async () => {
  const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
  await deployServer().connect(serverTransport);
  const agent = await client('legacy');
  await agent.connect(clientTransport);
  return agent;
};

const step = (name: 'propose' | 'decide') =>
  tracing.spans().filter((span) => span.attributes[ATTR_MCPSCOPE_CHECKPOINT_STEP] === name);
const calls = (kind: SpanKind) =>
  tracing.spans().filter((span) => span.name === 'tools/call deploy' && span.kind === kind);
const only = <T>(items: T[]): T => {
  expect(items).toHaveLength(1);
  return items[0] as T;
};
const idOf = (span: ReadableSpan | undefined) => span?.attributes[ATTR_MCPSCOPE_CHECKPOINT_ID];

describe('SDK v2: an input_required round of protocol 2026-07-28 is a checkpoint of the call', () => {
  it.each([
    ['accept', 'approved'],
    ['decline', 'rejected'],
    ['cancel', 'cancelled'],
  ] as const)(
    'operator answers %s: outcome %s, on the caller and on the round that completes',
    async (action, outcome) => {
      operatorAction = action;
      const agent = await modernClient();
      expect(agent.getProtocolEra()).toBe('modern');
      await agent.listTools();
      await agent.callTool({ name: 'deploy', arguments: { env: 'prod' } });

      const caller = only(calls(SpanKind.CLIENT));
      const propose = only(step('propose'));
      const decide = only(step('decide'));
      for (const span of [propose, decide]) {
        expect(span.attributes).toMatchObject({
          [ATTR_MCPSCOPE_CHECKPOINT_KIND]: 'input_required',
          [ATTR_GEN_AI_TOOL_NAME]: 'deploy',
          [ATTR_MCPSCOPE_CHECKPOINT_ARGUMENTS_FINGERPRINT]:
            caller.attributes[ATTR_MCPSCOPE_ARGUMENTS_FINGERPRINT],
        });
        expect(span.parentSpanContext?.spanId).toBe(caller.spanContext().spanId);
      }
      expect(decide.attributes[ATTR_MCPSCOPE_CHECKPOINT_OUTCOME]).toBe(outcome);
      expect(idOf(caller)).toBe(idOf(propose));
      expect(caller.attributes[ATTR_MCPSCOPE_TOOL_READ_ONLY]).toBe(false);
      // The re-sent call names the checkpoint in `_meta`: the server's round that completes carries it.
      const answered = calls(SpanKind.SERVER).find(
        (span) => span.attributes[ATTR_MCPSCOPE_CONTINUATION] === true,
      );
      expect(idOf(answered)).toBe(idOf(propose));
    },
  );
});

describe('SDK v2, legacy era: an elicitation during the call', () => {
  it('is a checkpoint of the server tool call', async () => {
    operatorAction = 'decline';
    const agent = await legacyClient();
    expect(agent.getProtocolEra()).toBe('legacy');
    await agent.callTool({ name: 'deploy', arguments: { env: 'stage' } });
    const receiver = only(calls(SpanKind.SERVER));
    const decide = only(step('decide'));
    expect(decide.attributes).toMatchObject({
      [ATTR_MCPSCOPE_CHECKPOINT_KIND]: 'elicitation',
      [ATTR_MCPSCOPE_CHECKPOINT_OUTCOME]: 'rejected',
      [ATTR_GEN_AI_TOOL_NAME]: 'deploy',
    });
    expect(idOf(receiver)).toBe(idOf(decide));
    // Never listed by the client: the server reads its own registration.
    expect(receiver.attributes[ATTR_MCPSCOPE_TOOL_READ_ONLY]).toBe(false);
  });
});
