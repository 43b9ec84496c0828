export { redactSpans, type RedactedSpans } from './redact-spans.js';
export type { RedactionOutcome, SpanRedactor } from './types.js';
export { cutLongStrings } from './cut-long-strings.js';
export { collectorRedactor, type CollectorRedaction } from './collector-redactor.js';
