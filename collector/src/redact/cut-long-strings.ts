import type { AttributeValue, Attributes, SpanRecord } from '../model/span.js';
import { TRUNCATION_MARKER } from '../otlp/values.js';

/**
 * Cuts every string a span carries to `maxLength` characters plus a marker: run after redaction, so
 * rules saw each value whole (a secret across the cut is replaced whole, a long JSON document is
 * redacted by its keys). Returns the spans (new objects only where something was cut) and how many
 * values were cut.
 */
export function cutLongStrings(
  spans: readonly SpanRecord[],
  maxLength: number,
): { spans: SpanRecord[]; cutValues: number } {
  let cutValues = 0;
  const text = (value: string): string => {
    if (value.length <= maxLength) return value;
    cutValues += 1;
    return value.slice(0, maxLength) + TRUNCATION_MARKER;
  };
  const value = (input: AttributeValue): AttributeValue => {
    if (typeof input === 'string') return text(input);
    if (Array.isArray(input)) return input.map(value);
    if (input !== null && typeof input === 'object') return attributes(input);
    return input;
  };
  const attributes = (input: Attributes): Attributes => {
    const output: Attributes = Object.create(null) as Attributes;
    for (const key of Object.keys(input)) output[key] = value(input[key] as AttributeValue);
    return output;
  };
  const resources = new Map<Attributes, Attributes>();
  const cut = spans.map((span): SpanRecord => {
    let resourceAttributes = resources.get(span.resourceAttributes);
    if (resourceAttributes === undefined) {
      resourceAttributes = attributes(span.resourceAttributes);
      resources.set(span.resourceAttributes, resourceAttributes);
    }
    return {
      ...span,
      name: text(span.name),
      statusMessage: text(span.statusMessage),
      serviceName: text(span.serviceName),
      scopeName: text(span.scopeName),
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
  return { spans: cut, cutValues };
}
