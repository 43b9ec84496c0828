import { describe, expect, it } from 'vitest';
import { makeSpan, toolCallSpan } from '../pipeline/test-support/spans.js';
import { spanFacts, type ToolCallRollup } from '../rollup/index.js';
import { callSide, RecentCallSpans } from './call-records.js';
import { CollectorMetrics } from './collector-metrics.js';
import { RetryLedger } from './retry-ledger.js';

const traceloopToolSpan = (kind: 'internal' | 'client') => ({
  ...makeSpan({
    trace: 't',
    span: 'traceloop',
    name: 'refresh_state.tool',
    kind,
    startMs: 0,
    durationMs: 10,
    service: 'agent',
    attributes: { 'traceloop.span.kind': 'tool', 'traceloop.entity.name': 'refresh_state' },
  }),
  scopeName: 'opentelemetry.instrumentation.mcp',
});

describe('operation-duration metrics across producers', () => {
  it("counts a producer's INTERNAL MCP tool span as the caller's", () => {
    expect(callSide(spanFacts(traceloopToolSpan('internal')))).toBe('client');
  });

  it('observes one record per side of a call, whichever arrives first, and names the tool from the pair', async () => {
    const metrics = new CollectorMetrics({ defaultMetrics: false });
    const outer = traceloopToolSpan('client');
    const inner = toolCallSpan({
      trace: 't',
      span: 'inner',
      parent: 'traceloop',
      kind: 'client',
      startMs: 1,
      durationMs: 8,
      service: 'agent',
      tool: 'refresh_state',
    });
    // A Python-style server span naming no tool at all, under the caller's span.
    const server = makeSpan({
      trace: 't',
      span: 'server',
      parent: 'inner',
      name: 'tools/call',
      kind: 'server',
      startMs: 2,
      durationMs: 5,
      service: 'py-server',
      attributes: { 'mcp.method.name': 'tools/call' },
    });
    for (const span of [inner, server, outer])
      metrics.committed({ stored: [span], facts: [spanFacts(span)], duplicates: 0 }, 0.001);
    const text = await metrics.exposition();
    const count = (metric: string, service: string) =>
      [...text.matchAll(new RegExp(`^${metric}_count\\{service_name="${service}"[^}]*\\} (\\d+)$`, 'gm'))]
        .map((match) => match[0])
        .join('\n');
    expect(count('mcp_client_operation_duration_seconds', 'agent')).toBe(
      'mcp_client_operation_duration_seconds_count{service_name="agent",mcp_method_name="tools/call",gen_ai_tool_name="refresh_state",error_type=""} 1',
    );
    expect(count('mcp_server_operation_duration_seconds', 'py-server')).toBe(
      'mcp_server_operation_duration_seconds_count{service_name="py-server",mcp_method_name="tools/call",gen_ai_tool_name="refresh_state",error_type=""} 1',
    );
  });

  it('forgets the oldest spans past its capacity', () => {
    const recent = new RecentCallSpans(1);
    const first = spanFacts(
      toolCallSpan({
        trace: 'c',
        span: 'a',
        kind: 'client',
        startMs: 0,
        durationMs: 1,
        service: 's',
        tool: 'x',
      }),
    );
    const unrelated = spanFacts(
      toolCallSpan({
        trace: 'c',
        span: 'b',
        kind: 'client',
        startMs: 0,
        durationMs: 1,
        service: 's',
        tool: 'x',
      }),
    );
    const child = spanFacts(
      toolCallSpan({
        trace: 'c',
        span: 'c',
        parent: 'a',
        kind: 'client',
        startMs: 0,
        durationMs: 1,
        service: 's',
        tool: 'x',
      }),
    );
    expect(recent.observe(first).second).toBe(false);
    expect(recent.observe(unrelated).second).toBe(false);
    expect(recent.observe(child).second).toBe(false);
  });
});

describe('retry ledger', () => {
  const retry = (
    spanId: string,
    service: string,
    peers: string[],
    awaitingCaller: boolean,
  ): ToolCallRollup => ({
    taskId: 't',
    traceId: 'trace',
    spanId,
    peerSpanIds: peers,
    awaitingCaller,
    service,
    method: 'tools/call',
    tool: 'refresh_state',
    outcome: 'success',
    errorType: null,
    durationMs: 1,
    arguments: null,
    fingerprint: 'f',
    retryOf: 'earlier',
    startNs: 0n,
    detail: null,
  });

  it("counts a retry the server reported first once, under the caller, when the caller's span arrives", () => {
    const ledger = new RetryLedger();
    expect(ledger.take([retry('server', 'infra', [], true)], 0)).toEqual([]);
    expect(ledger.take([retry('server', 'infra', [], true)], 100)).toEqual([]);
    expect(
      ledger.take([retry('caller', 'agent', ['server'], false)], 200).map((call) => call.service),
    ).toEqual(['agent']);
    expect(ledger.take([retry('outer', 'agent', ['caller', 'server'], false)], 300)).toEqual([]);
    expect(ledger.expire(60_000, 30_000)).toEqual([]);
  });

  it('counts it under the server once no caller came within the settle time', () => {
    const ledger = new RetryLedger();
    ledger.take([retry('server', 'infra', [], true)], 0);
    expect(ledger.expire(29_999, 30_000)).toEqual([]);
    expect(ledger.expire(30_000, 30_000).map((call) => call.service)).toEqual(['infra']);
    expect(ledger.take([retry('caller', 'agent', ['server'], false)], 40_000)).toEqual([]);
  });
});

describe('a caller whose span cannot see an isError result', () => {
  it("takes the tool error its server's record of the call saw, and the server keeps its own", async () => {
    const metrics = new CollectorMetrics({ defaultMetrics: false });
    // The Python `mcp` SDK's shapes: the caller's span has neither tool name nor error.
    const caller = makeSpan({
      trace: 'py',
      span: 'caller',
      name: 'MCP send tools/call refresh_state',
      kind: 'client',
      startMs: 0,
      durationMs: 10,
      service: 'py-agent',
      attributes: { 'mcp.method.name': 'tools/call' },
    });
    const server = makeSpan({
      trace: 'py',
      span: 'server',
      parent: 'caller',
      name: 'tools/call refresh_state',
      kind: 'server',
      startMs: 1,
      durationMs: 5,
      service: 'py-server',
      error: true,
      attributes: {
        'mcp.method.name': 'tools/call',
        'gen_ai.tool.name': 'refresh_state',
        'error.type': 'tool_error',
      },
    });
    for (const span of [server, caller])
      metrics.committed({ stored: [span], facts: [spanFacts(span)], duplicates: 0 }, 0.001);
    const text = await metrics.exposition();
    for (const side of ['client', 'server'])
      expect(text).toContain(
        `mcp_${side}_operation_duration_seconds_count{service_name="py-${side === 'client' ? 'agent' : 'server'}",mcp_method_name="tools/call",gen_ai_tool_name="refresh_state",error_type="tool_error"} 1`,
      );
  });
});
