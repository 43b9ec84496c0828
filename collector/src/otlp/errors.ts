import type { RejectionReason } from '../model/ingest-events.js';

/**
 * A request the collector refuses as a whole. The message names what was wrong and where, never
 * the offending content: it is sent back to the exporter and may be logged.
 */
export class OtlpDecodeError extends Error {
  override readonly name = 'OtlpDecodeError';
  constructor(
    readonly reason: Extract<RejectionReason, 'malformed' | 'invalid' | 'limit_exceeded'>,
    message: string,
  ) {
    super(message);
  }
}
