import { ATTR_SERVICE_NAME } from '@mcpscope/instrumentation/conventions';
import type { Attributes, SpanRecord } from '../model/span.js';
import { mapSpanText } from './map-span-text.js';
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

  const redacted = mapSpanText(spans, {
    text,
    attributes,
    // The service name column comes from the resource: it takes the redacted value too.
    serviceName: (span, resourceAttributes) => {
      const redactedServiceName = resourceAttributes[ATTR_SERVICE_NAME];
      return span.serviceName === span.resourceAttributes[ATTR_SERVICE_NAME] &&
        typeof redactedServiceName === 'string'
        ? redactedServiceName
        : span.serviceName;
    },
  });
  return { spans: redacted, count, byRule };
}
