/** What one redaction pass returns: the rewritten value, how many values it replaced, and by which rule. */
export interface RedactionOutcome<T> {
  value: T;
  count: number;
  byRule: Readonly<Record<string, number>>;
}

/**
 * The part of the instrumentation's redaction engine (`createRedactor()` in
 * `@mcpscope/instrumentation/redaction`) that the collector uses. Declared here structurally so that
 * the collector depends on the behaviour, not on one build of the engine.
 */
export interface SpanRedactor {
  redactString(value: string): RedactionOutcome<unknown>;
  redactAttributes(attributes: Record<string, unknown>): RedactionOutcome<unknown>;
}
