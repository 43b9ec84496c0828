import type { AttributeValue, Attributes, SpanRecord } from '../model/span.js';
import { TRUNCATION_MARKER } from '../otlp/values.js';
import { mapSpanText } from './map-span-text.js';

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
  const cut = mapSpanText(spans, { text, attributes, serviceName: (span) => text(span.serviceName) });
  return { spans: cut, cutValues };
}
