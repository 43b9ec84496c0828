import { ATTR_SERVICE_NAME } from '@mcpscope/instrumentation/conventions';
import type { Attributes, SpanRecord } from '../model/span.js';
import type { SpanRedactor } from './types.js';

export interface RedactedSpans {
  spans: SpanRecord[];
  count: number;
  byRule: Record<string, number>;
}

/**
 * Passes every value a span can carry through the redactor before it is stored, counted or
 * forwarded: span, event, link and resource attributes, span, scope and event names and status messages
 * (names can hold URLs, messages exception text). The redactor sees each value whatever its key, so arguments recorded by
 * other instrumentations under their own names (`input.value`, `gen_ai.prompt`, ...) are covered.
 */
export function redactSpans(spans: readonly SpanRecord[], redactor: SpanRedactor): RedactedSpans {
  const byRule: Record<string, number> = {};
  let count = 0;
  const tally = (outcome: { count: number; byRule: Readonly<Record<string, number>> }) => {
    count += outcome.count;
    for (const [rule, hits] of Object.entries(outcome.byRule)) byRule[rule] = (byRule[rule] ?? 0) + hits;
  };
  const attributes = (input: Attributes): Attributes => {
    if (Object.keys(input).length === 0) return input;
    const outcome = redactor.redactAttributes(input);
    tally(outcome);
    // The engine rewrites strings inside the same JSON shape it was given.
    return outcome.value as Attributes;
  };
  const text = (input: string): string => {
    if (input === '') return input;
    const outcome = redactor.redactString(input);
    tally(outcome);
    return outcome.value as string;
  };

  // Spans of one request usually share a resource object: redact it once.
  const resources = new Map<Attributes, Attributes>();
  const redacted = spans.map((span): SpanRecord => {
    let resourceAttributes = resources.get(span.resourceAttributes);
    if (resourceAttributes === undefined) {
      resourceAttributes = attributes(span.resourceAttributes);
      resources.set(span.resourceAttributes, resourceAttributes);
    }
    const redactedServiceName = resourceAttributes[ATTR_SERVICE_NAME];
    return {
      ...span,
      // The service name column comes from the resource: it takes the redacted value too.
      serviceName:
        span.serviceName === span.resourceAttributes[ATTR_SERVICE_NAME] &&
        typeof redactedServiceName === 'string'
          ? redactedServiceName
          : span.serviceName,
      // Other instrumentations name spans after URLs and queries, which can carry tokens.
      name: text(span.name),
      // Producers name their scope freely; a scope name is stored and forwarded like any other text.
      scopeName: text(span.scopeName),
      statusMessage: text(span.statusMessage),
      attributes: attributes(span.attributes),
      resourceAttributes,
      events: span.events.map((event) => ({
        ...event,
        name: text(event.name),
        attributes: attributes(event.attributes),
      })),
      links: span.links.map((link) => ({ ...link, attributes: attributes(link.attributes) })),
    };
  });
  return { spans: redacted, count, byRule };
}
