import { context, SpanKind, trace, type Attributes, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter as GrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as HttpExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';

/**
 * Human checkpoints and writes as the contract's spans, produced by the real OpenTelemetry SDK: an
 * agent process exporting over OTLP/gRPC and an infrastructure server exporting over OTLP/HTTP. Each
 * case states its truth; the tests compare the collector's API and metrics with it.
 */

export const AGENT_SERVICE = 'infra-agent';
export const SERVER_SERVICE = 'terraform-server';
export const SCENARIO_TASK = 'change-42';

export interface ScenarioExporters {
  agent: BasicTracerProvider;
  server: BasicTracerProvider;
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

export const startExporters = ({
  grpcUrl,
  httpUrl,
}: {
  grpcUrl: string;
  httpUrl: string;
}): ScenarioExporters => {
  const agent = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': AGENT_SERVICE }),
    spanProcessors: [new SimpleSpanProcessor(new GrpcExporter({ url: grpcUrl }))],
  });
  const server = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': SERVER_SERVICE }),
    spanProcessors: [new SimpleSpanProcessor(new HttpExporter({ url: `${httpUrl}/v1/traces` }))],
  });
  return {
    agent,
    server,
    flush: async () => {
      await agent.forceFlush();
      await server.forceFlush();
    },
    shutdown: async () => {
      await agent.shutdown();
      await server.shutdown();
    },
  };
};

interface Proposal {
  id: string;
  tool: string;
  fingerprint: string;
  stateVersion?: string;
  /** When approval was requested (epoch ms). */
  atMs: number;
}

const base = (taskId: string): Attributes => ({ 'mcpscope.task.id': taskId });

/** `checkpoint propose {tool}` on the server, in a trace of its own. */
export const propose = (tracer: Tracer, p: Proposal, taskId = SCENARIO_TASK) => {
  const span = tracer.startSpan(`checkpoint propose ${p.tool}`, {
    kind: SpanKind.INTERNAL,
    startTime: p.atMs,
    attributes: {
      ...base(taskId),
      'mcpscope.checkpoint.id': p.id,
      'mcpscope.checkpoint.step': 'propose',
      'mcpscope.checkpoint.kind': 'app',
      'gen_ai.tool.name': p.tool,
      'mcpscope.checkpoint.arguments_fingerprint': p.fingerprint,
      ...(p.stateVersion === undefined ? {} : { 'mcpscope.checkpoint.state_version': p.stateVersion }),
    },
  });
  span.end(p.atMs + 5);
};

/** `checkpoint decide {tool}`, `waitMs` after the proposal, carrying `requested_at`. */
export const decide = (
  tracer: Tracer,
  p: Proposal,
  outcome: string,
  waitMs: number,
  taskId = SCENARIO_TASK,
) => {
  const span = tracer.startSpan(`checkpoint decide ${p.tool}`, {
    kind: SpanKind.INTERNAL,
    startTime: p.atMs + waitMs - 5,
    attributes: {
      ...base(taskId),
      'mcpscope.checkpoint.id': p.id,
      'mcpscope.checkpoint.step': 'decide',
      'mcpscope.checkpoint.kind': 'app',
      'mcpscope.checkpoint.outcome': outcome,
      'mcpscope.checkpoint.reviewer': 'alice',
      'mcpscope.checkpoint.requested_at': p.atMs,
      'gen_ai.tool.name': p.tool,
      'mcpscope.checkpoint.arguments_fingerprint': p.fingerprint,
    },
  });
  span.end(p.atMs + waitMs);
};

export interface CallShape {
  tool: string;
  atMs: number;
  checkpointId?: string;
  fingerprint: string;
  stateVersion?: string;
  destructive?: boolean;
  readOnly?: boolean;
  /** The caller's `error.type` (it gave up), if any. */
  callerError?: string;
  /** No server span: the request never reached the server. */
  noServer?: boolean;
}

/** One `tools/call`: the agent's client span and, under it, the server's span. */
export const toolCall = (exporters: ScenarioExporters, call: CallShape, taskId = SCENARIO_TASK) => {
  const annotations: Attributes = {
    'mcpscope.tool.read_only': call.readOnly ?? false,
    'mcpscope.tool.destructive': call.destructive ?? true,
    'mcpscope.tool.idempotent': false,
  };
  const common: Attributes = {
    ...base(taskId),
    ...annotations,
    'mcp.method.name': 'tools/call',
    'gen_ai.tool.name': call.tool,
    'gen_ai.operation.name': 'execute_tool',
    'mcpscope.arguments.fingerprint': call.fingerprint,
    ...(call.checkpointId === undefined ? {} : { 'mcpscope.checkpoint.id': call.checkpointId }),
    ...(call.stateVersion === undefined ? {} : { 'mcpscope.checkpoint.state_version': call.stateVersion }),
  };
  const client = exporters.agent.getTracer('scenario').startSpan(`tools/call ${call.tool}`, {
    kind: SpanKind.CLIENT,
    startTime: call.atMs,
    attributes: { ...common, ...(call.callerError === undefined ? {} : { 'error.type': call.callerError }) },
  });
  if (call.callerError !== undefined) client.setStatus({ code: 2 });
  // A caller that gave up ends before the server finishes its work.
  const callerEnd = call.atMs + (call.callerError === undefined ? 200 : 100);
  if (call.noServer !== true) {
    const server = exporters.server
      .getTracer('scenario')
      .startSpan(
        `tools/call ${call.tool}`,
        { kind: SpanKind.SERVER, startTime: call.atMs + 10, attributes: common },
        trace.setSpan(context.active(), client),
      );
    server.end(call.atMs + 190);
  }
  client.end(callerEnd);
};

/** The scenario's cases and the truth the collector must report. */
export const scenarioTruth = {
  checkpoints: { pending: 1, approved: 5, rejected: 2, expired: 1, cancelled: 0 },
  writes: { approved: 3, unapproved: 2, stale: 1, modified: 1, notExecuted: 1, orphaned: 1 },
  /** Waits of the decided checkpoints (ms): 2000, 3000, 4000, 5000, 6000, 7000, 8000, 60000. */
  waitMs: { p50: 5500, p95: 41_800, max: 60_000 },
  pendingSinceMsAtLeast: 120_000,
  orphanedTool: 'apply',
} as const;

/**
 * Emits every case. The out-of-order checkpoint's execution is exported first, its decision next
 * and its proposal last, each in its own trace and flushed (so rolled up) before the next.
 */
export const emitScenario = async (
  exporters: ScenarioExporters,
  { now = Date.now(), settle = () => new Promise((r) => setTimeout(r, 400)) } = {},
) => {
  const agent = exporters.agent.getTracer('scenario');
  const server = exporters.server.getTracer('scenario');
  const t0 = now - 10 * 60_000;
  const at = (minutes: number) => t0 + minutes * 60_000;

  // Out of order: execution, then decision, then proposal.
  const outOfOrder: Proposal = { id: 'cp-out-of-order', tool: 'apply', fingerprint: 'f-ooo', atMs: at(0) };
  toolCall(exporters, {
    tool: 'apply',
    atMs: at(0) + 9000,
    checkpointId: outOfOrder.id,
    fingerprint: 'f-ooo',
  });
  await exporters.flush();
  await settle();
  decide(agent, outOfOrder, 'approved', 8000);
  await exporters.flush();
  await settle();
  propose(server, outOfOrder);
  await exporters.flush();

  // Approved, then executed as approved.
  const approve: Proposal = {
    id: 'cp-approve',
    tool: 'apply',
    fingerprint: 'f-1',
    stateVersion: 'lin:1',
    atMs: at(1),
  };
  propose(server, approve);
  decide(agent, approve, 'approved', 4000);
  toolCall(exporters, {
    tool: 'apply',
    atMs: at(1) + 5000,
    checkpointId: approve.id,
    fingerprint: 'f-1',
    stateVersion: 'lin:1',
  });

  // Rejected, nothing executed.
  const reject: Proposal = { id: 'cp-reject', tool: 'destroy', fingerprint: 'f-2', atMs: at(2) };
  propose(server, reject);
  decide(agent, reject, 'rejected', 2000);

  // Rejected, and executed anyway: unapproved.
  const rejectedRan: Proposal = { id: 'cp-rejected-ran', tool: 'destroy', fingerprint: 'f-3', atMs: at(3) };
  propose(server, rejectedRan);
  decide(agent, rejectedRan, 'rejected', 3000);
  toolCall(exporters, {
    tool: 'destroy',
    atMs: at(3) + 4000,
    checkpointId: rejectedRan.id,
    fingerprint: 'f-3',
  });

  // Expired after a minute: nothing executed.
  const expire: Proposal = { id: 'cp-expire', tool: 'apply', fingerprint: 'f-4', atMs: at(4) };
  propose(server, expire);
  decide(agent, expire, 'expired', 60_000);

  // Drift between plan and approval: stale plan applied.
  const stale: Proposal = {
    id: 'cp-stale',
    tool: 'apply',
    fingerprint: 'f-5',
    stateVersion: 'lin:7',
    atMs: at(5),
  };
  propose(server, stale);
  decide(agent, stale, 'approved', 5000);
  toolCall(exporters, {
    tool: 'apply',
    atMs: at(5) + 6000,
    checkpointId: stale.id,
    fingerprint: 'f-5',
    stateVersion: 'lin:8',
  });

  // Arguments changed after approval.
  const modified: Proposal = { id: 'cp-modified', tool: 'apply', fingerprint: 'f-6', atMs: at(6) };
  propose(server, modified);
  decide(agent, modified, 'approved', 6000);
  toolCall(exporters, {
    tool: 'apply',
    atMs: at(6) + 7000,
    checkpointId: modified.id,
    fingerprint: 'f-6-changed',
  });

  // Approved; the caller times out while the server finishes the apply: an orphaned write.
  const orphan: Proposal = { id: 'cp-orphan', tool: 'apply', fingerprint: 'f-7', atMs: at(7) };
  propose(server, orphan);
  decide(agent, orphan, 'approved', 7000);
  toolCall(exporters, {
    tool: 'apply',
    atMs: at(7) + 8000,
    checkpointId: orphan.id,
    fingerprint: 'f-7',
    callerError: 'timeout',
  });

  // A write with no checkpoint at all; a write that never reached the server; a read.
  toolCall(exporters, { tool: 'import', atMs: at(8), fingerprint: 'f-8', destructive: false });
  toolCall(exporters, {
    tool: 'apply',
    atMs: at(8) + 1000,
    fingerprint: 'f-9',
    callerError: 'connection_closed',
    noServer: true,
  });
  toolCall(exporters, { tool: 'plan', atMs: at(8) + 2000, fingerprint: 'f-10', readOnly: true });

  // Still waiting for a human, requested more than two minutes ago.
  propose(server, { id: 'cp-pending', tool: 'apply', fingerprint: 'f-11', atMs: now - 150_000 });
  await exporters.flush();
};

/** A clean run: every write approved as proposed, nothing pending, no caller gives up. */
export const emitCleanRun = async (exporters: ScenarioExporters, { now = Date.now() } = {}) => {
  const agent = exporters.agent.getTracer('scenario');
  const server = exporters.server.getTracer('scenario');
  for (let index = 0; index < 3; index += 1) {
    const p: Proposal = {
      id: `clean-${index}`,
      tool: 'apply',
      fingerprint: `c-${index}`,
      stateVersion: 'lin:1',
      atMs: now - 60_000 + index * 10_000,
    };
    propose(server, p, 'clean-task');
    decide(agent, p, 'approved', 3000, 'clean-task');
    toolCall(
      exporters,
      {
        tool: 'apply',
        atMs: p.atMs + 4000,
        checkpointId: p.id,
        fingerprint: p.fingerprint,
        stateVersion: 'lin:1',
      },
      'clean-task',
    );
  }
  await exporters.flush();
};
