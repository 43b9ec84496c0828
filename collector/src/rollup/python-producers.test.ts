/**
 * Python producers, which cannot be recorded here (no Python package index): spans SHAPED AFTER their
 * source, not recorded from it.
 * - `mcp` 2.x built-in telemetry, modelcontextprotocol/python-sdk at commit
 *   57394b0548d1e2dc2dce8d67d84985769df3b8bb: client span `MCP send {method} {name}` (CLIENT;
 *   `mcp.method.name`, `jsonrpc.request.id`; no tool attribute, an `isError` result not marked), server
 *   span `{method} {name}` (SERVER; `gen_ai.tool.name`, `error.type` `tool_error` and status error on an
 *   `isError` result; no arguments), scope `mcp-python-sdk`, trace context through `_meta`.
 * - OpenLLMetry's MCP instrumentation (Python, scope `opentelemetry.instrumentation.mcp`): a
 *   `{tool}.tool` span on the caller, and a `RequestStreamWriter` / `ResponseStreamWriter` span around
 *   every message write, current while the message is sent, so `_meta` names the writer.
 */
import { describe, expect, it } from 'vitest';
import type { SpanRecord } from '../model/span.js';
import { makeSpan, toolCallSpan } from '../pipeline/test-support/spans.js';
import { isTask, rollUpTask, spanFacts } from './index.js';

const PYTHON_SCOPE = 'mcp-python-sdk';
const OPENLLMETRY_SCOPE = 'opentelemetry.instrumentation.mcp';

const pythonClient = (trace: string, span: string, tool: string, startMs: number, parent = 'agent') =>
  ({
    ...makeSpan({
      trace,
      span,
      parent,
      name: `MCP send tools/call ${tool}`,
      kind: 'client',
      startMs,
      durationMs: 8,
      service: 'py-agent',
      attributes: { 'mcp.method.name': 'tools/call', 'jsonrpc.request.id': span },
    }),
    scopeName: PYTHON_SCOPE,
  }) satisfies SpanRecord;

const pythonServer = (
  trace: string,
  span: string,
  parent: string,
  tool: string,
  startMs: number,
  isError: boolean,
) =>
  ({
    ...makeSpan({
      trace,
      span,
      parent,
      name: `tools/call ${tool}`,
      kind: 'server',
      startMs: startMs + 1,
      durationMs: 6,
      service: 'py-server',
      error: isError,
      attributes: {
        'mcp.method.name': 'tools/call',
        'mcp.protocol.version': '2026-07-28',
        'gen_ai.operation.name': 'execute_tool',
        'gen_ai.tool.name': tool,
        ...(isError ? { 'error.type': 'tool_error' } : {}),
      },
    }),
    scopeName: PYTHON_SCOPE,
  }) satisfies SpanRecord;

const agentRoot = (trace: string) =>
  makeSpan({ trace, span: 'agent', name: 'agent run', startMs: 0, durationMs: 100, service: 'py-agent' });

const rollUp = (spans: SpanRecord[]) => rollUpTask('task', spans.map(spanFacts));

describe('Python mcp 2.x built-in spans (shaped after python-sdk 57394b0)', () => {
  it('a caller span without tool name or isError, paired with its server span, is one failed call of that tool', () => {
    const { task, calls } = rollUp([
      agentRoot('py'),
      pythonClient('py', 'c1', 'refresh_state', 10),
      pythonServer('py', 's1', 'c1', 'refresh_state', 10, true),
    ]);
    expect(task).toMatchObject({ toolCalls: 1, failedCalls: 1, outcome: 'failed', tools: ['refresh_state'] });
    expect(calls[0]).toMatchObject({ service: 'py-agent', tool: 'refresh_state', errorType: 'tool_error' });
  });

  it("a Python agent's retry against a server traced by mcpscope is seen: the server's arguments name the attempt", () => {
    const mcpscopeServer = (span: string, parent: string, startMs: number, failed: boolean) =>
      toolCallSpan({
        trace: 'mix',
        span,
        parent,
        kind: 'server',
        startMs,
        durationMs: 5,
        service: 'ts-server',
        tool: 'refresh_state',
        arguments: { workspace: 'prod' },
        fingerprint: 'fp-prod',
        error: failed,
        ...(failed ? { errorType: 'tool_error' } : {}),
      });
    const { task, calls } = rollUp([
      agentRoot('mix'),
      pythonClient('mix', 'c1', 'refresh_state', 10),
      mcpscopeServer('s1', 'c1', 11, true),
      pythonClient('mix', 'c2', 'refresh_state', 30),
      mcpscopeServer('s2', 'c2', 31, false),
    ]);
    expect(task).toMatchObject({ toolCalls: 2, failedCalls: 1, retries: 1, outcome: 'recovered' });
    expect(calls.map((call) => call.service)).toEqual(['py-agent', 'py-agent']);
    expect(calls[1]?.retryOf).toBe(calls[0]?.spanId);
  });
});

describe("OpenLLMetry Python's MCP spans (shaped after its instrumentation)", () => {
  const writer = (
    trace: string,
    span: string,
    parent: string | undefined,
    name: string,
    service: string,
  ) => ({
    ...makeSpan({ trace, span, ...(parent ? { parent } : {}), name, startMs: 12, durationMs: 1, service }),
    scopeName: OPENLLMETRY_SCOPE,
  });

  it("a server span whose `_meta` parent is the caller's stream writer still pairs with the tool call", () => {
    const toolSpan = {
      ...makeSpan({
        trace: 'ol',
        span: 'tool',
        parent: 'agent',
        name: 'refresh_state.tool',
        startMs: 10,
        durationMs: 9,
        service: 'py-agent',
        attributes: {
          'traceloop.span.kind': 'tool',
          'traceloop.entity.name': 'refresh_state',
          'traceloop.entity.input': JSON.stringify({
            tool_name: 'refresh_state',
            arguments: { workspace: 'prod' },
          }),
        },
      }),
      scopeName: OPENLLMETRY_SCOPE,
    };
    const server = toolCallSpan({
      trace: 'ol',
      span: 'server',
      parent: 'writer',
      kind: 'server',
      startMs: 13,
      durationMs: 4,
      service: 'ts-server',
      tool: 'refresh_state',
      error: true,
      errorType: 'tool_error',
    });
    const spans = [
      agentRoot('ol'),
      toolSpan,
      writer('ol', 'writer', 'tool', 'RequestStreamWriter', 'py-agent'),
      server,
      writer('ol', 'reply', 'server', 'ResponseStreamWriter', 'ts-server'),
    ];
    const { task, calls } = rollUp(spans);
    expect(task).toMatchObject({ toolCalls: 1, failedCalls: 1, tools: ['refresh_state'] });
    expect(calls[0]).toMatchObject({
      service: 'py-agent',
      errorType: 'tool_error',
      arguments: '{"workspace":"prod"}',
    });
  });

  it('writer spans of initialize, tools/list and notifications are never a task', () => {
    for (const name of ['ResponseStreamWriter', 'RequestStreamWriter']) {
      expect(isTask([spanFacts(writer(`plumbing-${name}`, 'w', undefined, name, 'py-server'))])).toBe(false);
    }
    // The same span name from another library is someone's work, not plumbing.
    expect(
      isTask([
        spanFacts(
          makeSpan({
            trace: 't',
            span: 'w',
            name: 'ResponseStreamWriter',
            startMs: 0,
            durationMs: 1,
            service: 'app',
          }),
        ),
      ]),
    ).toBe(true);
  });
});

describe("Sentry's MCP server spans", () => {
  it("a Sentry server span around mcpscope's in the same service is one call, the caller's", () => {
    const sentry = makeSpan({
      trace: 'sentry',
      span: 'sentry',
      parent: 'caller',
      name: 'tools/call plan_changes',
      kind: 'server',
      startMs: 11,
      durationMs: 7,
      service: 'ts-server',
      attributes: { 'mcp.method.name': 'tools/call', 'mcp.tool.name': 'plan_changes' },
    });
    const { task } = rollUp([
      agentRoot('sentry'),
      toolCallSpan({
        trace: 'sentry',
        span: 'caller',
        parent: 'agent',
        kind: 'client',
        startMs: 10,
        durationMs: 9,
        service: 'agent',
        tool: 'plan_changes',
      }),
      sentry,
      toolCallSpan({
        trace: 'sentry',
        span: 'inner',
        parent: 'sentry',
        kind: 'server',
        startMs: 12,
        durationMs: 5,
        service: 'ts-server',
        tool: 'plan_changes',
      }),
    ]);
    expect(task).toMatchObject({ toolCalls: 1, tools: ['plan_changes'] });
  });
});
