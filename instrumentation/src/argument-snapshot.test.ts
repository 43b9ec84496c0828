import { SpanKind } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  ATTR_GEN_AI_TOOL_CALL_ARGUMENTS,
  ATTR_MCPSCOPE_ARGUMENTS_FINGERPRINT,
  ATTR_MCPSCOPE_REDACTED_COUNT,
} from './conventions.js';
import { instrumentMcp } from './instrument-mcp.js';
import { exportedText, setUpTracing, spansNamed } from './test-support/tracing.js';

const GITHUB_TOKEN = `ghp_${'q7W8e9'.repeat(6)}`;

let tracing: Awaited<ReturnType<typeof setUpTracing>>;
beforeAll(async () => {
  tracing = await setUpTracing();
});
afterAll(() => tracing.tearDown());

/** A server whose tool waits until the test lets it finish, and says when it started. */
const holdingServer = () => {
  let started: () => void = () => {};
  let release: () => void = () => {};
  const server = new McpServer({ name: 'infra', version: '1.0.0' });
  server.registerTool(
    'apply_changes',
    {
      inputSchema: {
        workspace: z.string(),
        steps: z.array(z.string()),
        credentials: z.record(z.string()),
      },
    },
    async ({ workspace }) => {
      started();
      await new Promise<void>((resolve) => (release = resolve));
      return { content: [{ type: 'text', text: `applied to ${workspace}` }] };
    },
  );
  return {
    server,
    /** Resolves once the tool runs; `release` then lets it answer. */
    nextCall: () => new Promise<void>((resolve) => (started = resolve)),
    release: () => release(),
  };
};

const connect = async (server: McpServer) => {
  const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'agent', version: '1.0.0' });
  await server.connect(serverTransport);
  await client.connect(clientTransport);
  return instrumentMcp(client);
};

const recorded = (span: ReadableSpan | undefined) => ({
  fingerprint: span?.attributes[ATTR_MCPSCOPE_ARGUMENTS_FINGERPRINT],
  arguments: span?.attributes[ATTR_GEN_AI_TOOL_CALL_ARGUMENTS],
  redacted: span?.attributes[ATTR_MCPSCOPE_REDACTED_COUNT],
});

describe('what a call records of its arguments', () => {
  it('is what they were when the call was made: the caller changing them during or after the call changes nothing', async () => {
    const original = { workspace: 'prod', steps: ['plan'], credentials: { token: GITHUB_TOKEN } };
    const holding = holdingServer();
    const client = await connect(holding.server);

    // The same arguments, never touched: what both sides record for them.
    let running = holding.nextCall();
    let call = client.callTool({ name: 'apply_changes', arguments: structuredClone(original) });
    await running;
    holding.release();
    await call;
    const untouched = spansNamed(tracing.spans(), 'tools/call apply_changes');
    tracing.exporter.reset();

    // The caller changes its arguments object while the tool runs, and again once the call returned.
    const args = structuredClone(original);
    running = holding.nextCall();
    call = client.callTool({ name: 'apply_changes', arguments: args });
    await running;
    args.workspace = 'changed-during-the-call';
    args.steps.push('destroy');
    args.credentials.token = 'changed-token';
    holding.release();
    await call;
    args.workspace = 'changed-after-the-call';
    Object.assign(args, { extra: 'added-after-the-call' });
    const changed = spansNamed(tracing.spans(), 'tools/call apply_changes');

    for (const kind of [SpanKind.CLIENT, SpanKind.SERVER]) {
      const before = recorded(untouched.find((span) => span.kind === kind));
      const after = recorded(changed.find((span) => span.kind === kind));
      expect(before.fingerprint).toMatch(/^[0-9a-f]{32}$/);
      expect(after).toEqual(before);
      expect(JSON.parse(String(after.arguments))).toEqual({
        workspace: 'prod',
        steps: ['plan'],
        credentials: expect.stringContaining('[REDACTED') as unknown,
      });
    }
    const text = exportedText(changed);
    expect(text).not.toContain('changed-');
    expect(text).not.toContain('destroy');
    expect(text).not.toContain(GITHUB_TOKEN);
  });
});
