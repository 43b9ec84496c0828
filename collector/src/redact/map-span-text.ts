import type { Attributes, SpanRecord } from '../model/span.js';

export interface SpanTextMappers {
  text: (value: string) => string;
  attributes: (value: Attributes) => Attributes;
  /** The span's service name, given its resource attributes as mapped. */
  serviceName: (span: SpanRecord, resourceAttributes: Attributes) => string;
}

/**
 * Every text a span carries, through `mappers`: its name, status message, scope name and service name,
 * and the attributes of the span, its events, its links and its resource (each resource object once:
 * spans of one request share it). The one list of a span's texts, for redaction and for cutting alike.
 */
export const mapSpanText = (spans: readonly SpanRecord[], mappers: SpanTextMappers): SpanRecord[] => {
  const { text, attributes } = mappers;
  const resources = new Map<Attributes, Attributes>();
  return spans.map((span): SpanRecord => {
    let resourceAttributes = resources.get(span.resourceAttributes);
    if (resourceAttributes === undefined) {
      resourceAttributes = attributes(span.resourceAttributes);
      resources.set(span.resourceAttributes, resourceAttributes);
    }
    return {
      ...span,
      serviceName: mappers.serviceName(span, resourceAttributes),
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
};
