import type { AuthReason } from '@mcpscope/instrumentation/conventions';

/** How a request reached the collector; a label value of the collector's health metrics. */
export const INGEST_PROTOCOLS = ['grpc', 'http_protobuf', 'http_json', 'api'] as const;
export type IngestProtocol = (typeof INGEST_PROTOCOLS)[number];

/** Why a request was refused; a closed set so the rejection metric stays bounded. */
export const REJECTION_REASONS = [
  'unauthenticated',
  'malformed',
  'too_large',
  'unsupported_media_type',
  'overloaded',
  'invalid',
  'limit_exceeded',
  'storage_error',
  'throttled',
  'auth_unavailable',
] as const;
export type RejectionReason = (typeof REJECTION_REASONS)[number];

/**
 * What the receivers report as they work. The metrics module implements it; receivers never import
 * prom-client. Every method must be cheap and must not throw.
 */
export interface IngestObserver {
  /** Spans in a request that was decoded and accepted for commit. */
  received(protocol: IngestProtocol, spanCount: number): void;
  rejected(protocol: IngestProtocol, reason: RejectionReason): void;
  /** A caller failed authentication at the collector (counted as auth failures, side=collector). */
  authFailed(protocol: IngestProtocol, reason: AuthReason): void;
  /** Values the collector's redaction replaced, by rule name. */
  redacted(byRule: Readonly<Record<string, number>>): void;
  /** Spans dated past the trusted clock skew, moved back to their arrival time. */
  timesClamped?(spanCount: number): void;
}

export const noopIngestObserver: IngestObserver = {
  received() {},
  rejected() {},
  authFailed() {},
  redacted() {},
};
