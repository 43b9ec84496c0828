import type { SpanFacts } from '../span-facts.js';

/** A span's facts as ingest extracts them, with every field a test does not name left empty. */
export const facts = (overrides: Partial<SpanFacts>): SpanFacts => ({
  traceId: 'a'.repeat(32),
  spanId: 'b'.repeat(16),
  parentSpanId: null,
  kind: 'server',
  startNs: 0n,
  endNs: 1n,
  serviceName: 'runbook-server',
  statusError: false,
  method: null,
  tool: null,
  taskId: null,
  taskHint: null,
  fingerprint: null,
  errorType: null,
  arguments: null,
  inputTokens: null,
  outputTokens: null,
  authOutcome: null,
  authReason: null,
  authSide: null,
  feedbackVerdict: null,
  feedbackNote: null,
  callDetail: null,
  ...overrides,
});
