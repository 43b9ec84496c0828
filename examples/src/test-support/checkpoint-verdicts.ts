import type { CheckpointTruth } from '../scenario.mjs';
import { SPAN_KIND_CLIENT, SPAN_KIND_SERVER, type ExportedSpan } from './otlp-receiver.js';

/**
 * The checkpoint contract's verdicts read straight off one task's exported spans: the reference the
 * demo's truth is checked against here, independent of the collector that implements them.
 */

const ORPHANING_ERRORS = new Set(['timeout', 'connection_closed', 'cancelled']);
const attr = (span: ExportedSpan, key: string) => span.attributes[key];
const isToolCall = (span: ExportedSpan) => attr(span, 'mcp.method.name') === 'tools/call';

const sortBy = <T>(items: T[]): T[] =>
  items.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

export const checkpointVerdicts = (spans: ExportedSpan[]): CheckpointTruth => {
  const steps = spans.filter((span) => attr(span, 'mcpscope.checkpoint.step') !== undefined);
  const proposals = new Map<string, ExportedSpan>();
  const decisions = new Map<string, ExportedSpan>();
  for (const span of steps) {
    const id = String(attr(span, 'mcpscope.checkpoint.id'));
    (attr(span, 'mcpscope.checkpoint.step') === 'propose' ? proposals : decisions).set(id, span);
  }
  const checkpoints = [...new Set([...proposals.keys(), ...decisions.keys()])].map((id) => {
    const span = (proposals.get(id) ?? decisions.get(id)) as ExportedSpan;
    return {
      kind: attr(span, 'mcpscope.checkpoint.kind'),
      tool: attr(span, 'gen_ai.tool.name'),
      outcome: attr(decisions.get(id) ?? span, 'mcpscope.checkpoint.outcome') ?? 'pending',
    };
  });

  const callers = new Map(
    spans
      .filter((span) => span.kind === SPAN_KIND_CLIENT && isToolCall(span))
      .map((span) => [span.spanId, span]),
  );
  const writes: CheckpointTruth['writes'] = [];
  const orphanedWrites: CheckpointTruth['orphanedWrites'] = [];
  const serverWrites = spans.filter(
    (span) =>
      span.kind === SPAN_KIND_SERVER && isToolCall(span) && attr(span, 'mcpscope.tool.read_only') === false,
  );
  for (const server of serverWrites) {
    const tool = String(attr(server, 'gen_ai.tool.name'));
    const caller = server.parentSpanId === undefined ? undefined : callers.get(server.parentSpanId);
    const id = attr(server, 'mcpscope.checkpoint.id') ?? (caller && attr(caller, 'mcpscope.checkpoint.id'));
    const proposal = id === undefined ? undefined : proposals.get(String(id));
    const decision = id === undefined ? undefined : decisions.get(String(id));
    let verdict: CheckpointTruth['writes'][number]['verdict'] = 'unapproved';
    if (decision && attr(decision, 'mcpscope.checkpoint.outcome') === 'approved') {
      const approvedFingerprint = attr(decision, 'mcpscope.checkpoint.arguments_fingerprint');
      const proposedVersion = proposal && attr(proposal, 'mcpscope.checkpoint.state_version');
      const executedVersion = attr(server, 'mcpscope.checkpoint.state_version');
      if (approvedFingerprint !== attr(server, 'mcpscope.arguments.fingerprint')) verdict = 'modified';
      else if (
        proposedVersion !== undefined &&
        executedVersion !== undefined &&
        proposedVersion !== executedVersion
      )
        verdict = 'stale';
      else verdict = 'approved';
    }
    writes.push({ tool, verdict });
    const callerGaveUp =
      caller !== undefined &&
      (ORPHANING_ERRORS.has(String(attr(caller, 'error.type'))) || caller.endNs < server.endNs);
    if (attr(server, 'error.type') === undefined && callerGaveUp) {
      const destructive = attr(server, 'mcpscope.tool.destructive');
      orphanedWrites.push({
        tool,
        destructive: destructive === undefined ? 'unknown' : destructive ? 'true' : 'false',
      });
    }
  }
  return {
    checkpoints: sortBy(checkpoints) as CheckpointTruth['checkpoints'],
    writes: sortBy(writes),
    orphanedWrites,
  };
};

/** A truth in the order `checkpointVerdicts` returns it. */
export const sortedTruth = (truth: CheckpointTruth): CheckpointTruth => ({
  checkpoints: sortBy([...truth.checkpoints]),
  writes: sortBy([...truth.writes]),
  orphanedWrites: [...truth.orphanedWrites],
});
