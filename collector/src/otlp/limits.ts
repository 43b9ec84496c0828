/** Bounds on one OTLP request; a request beyond them is refused (strings are truncated instead). */
export interface OtlpLimits {
  /** Largest request body as received, compressed or not. */
  maxBodyBytes: number;
  /** Largest body after gunzip; inflation stops as soon as it is passed. */
  maxDecompressedBytes: number;
  maxSpansPerRequest: number;
  /** Per attribute set: a span's, a resource's, an event's or a link's. */
  maxAttributesPerSpan: number;
  /** Longer strings are cut to this many characters and marked. */
  maxAttributeValueLength: number;
  /** Deepest nesting of arrays and key-value lists inside one attribute value. */
  maxValueDepth: number;
}

export const DEFAULT_OTLP_LIMITS: Readonly<OtlpLimits> = Object.freeze({
  maxBodyBytes: 4 * 1024 * 1024,
  maxDecompressedBytes: 16 * 1024 * 1024,
  maxSpansPerRequest: 10_000,
  maxAttributesPerSpan: 256,
  maxAttributeValueLength: 16 * 1024,
  maxValueDepth: 8,
});

export const resolveOtlpLimits = (limits: Partial<OtlpLimits> = {}): OtlpLimits => ({
  ...DEFAULT_OTLP_LIMITS,
  ...Object.fromEntries(Object.entries(limits).filter(([, value]) => value !== undefined)),
});
