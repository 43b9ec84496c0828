import type { Span } from '@opentelemetry/api';
import type { InstrumentationConfig } from '@opentelemetry/instrumentation';
import type { AuthReason } from './conventions.js';
import type { ToolAnnotationHints } from './checkpoints/tool-annotations.js';
import type { RedactionRule } from './redaction/index.js';

/** What a request hook sees. Never holds argument values: only names the instrumentation already recorded. */
export interface McpRequestInfo {
  /** `client` when this process sent the request, `server` when it handled it. */
  direction: 'client' | 'server';
  method: string;
  /** Tool or prompt name, when the method has one. */
  target?: string;
}

export interface McpInstrumentationConfig extends InstrumentationConfig {
  /**
   * Whether tool-call arguments are recorded as `gen_ai.tool.call.arguments`. `'redacted'` (the
   * default) records them after the redaction engine replaced every secret it recognises;
   * `'off'` records nothing. Raw arguments are never recorded.
   */
  captureArguments?: 'redacted' | 'off';
  /** Extra redaction rules, applied in addition to the built-in ones. */
  redactionRules?: readonly RedactionRule[];
  /** Longest serialized arguments recorded, in characters; longer values are cut with a marker. Default 4096. */
  maxArgumentsLength?: number;
  /**
   * Key of the HMAC that fingerprints raw arguments (`mcpscope.arguments.fingerprint`). Default: the
   * `MCPSCOPE_FINGERPRINT_KEY` variable, else a random key per process, so fingerprints cannot be
   * reversed by guessing low-entropy values with a public key.
   */
  fingerprintKey?: string;
  /** Record spans for notifications sent and received (default true). */
  notifications?: boolean;
  /**
   * Observe HTTP auth challenges: 401/403 answers with a `WWW-Authenticate: Bearer` header sent by
   * this process (server side) or received by its `fetch` calls (client side, token refreshes
   * included). Default true.
   */
  observeHttpAuth?: boolean;
  /**
   * Install Node's module loader hook in an ESM application too, so that ESM copies of the SDK it
   * cannot resolve at start (nested in another package's `node_modules`, installed elsewhere) are
   * patched as they load. It costs the application's start about 120 ms: every module load then
   * passes the loader thread. A CommonJS application always has it (for `import()` of the SDK).
   * Default false.
   */
  esmLoaderHook?: boolean;
  /**
   * Tool annotations by tool name (`{ apply: { readOnlyHint: false, destructiveHint: true } }`), over
   * what `tools/list` declares: which calls are writes (`mcpscope.tool.read_only`), for tools that
   * declare no annotations or declare them wrong.
   */
  toolAnnotations?: Readonly<Record<string, ToolAnnotationHints>>;
  /** Called on every MCP span before it starts its work; exceptions are caught and logged. */
  requestHook?: (span: Span, info: McpRequestInfo) => void;
}

export interface AuthEvent {
  outcome?: 'success' | 'failure';
  /** One of the documented reasons in `AUTH_REASONS`. */
  reason: AuthReason;
  side?: 'server' | 'client';
  /** HTTP status of the answer, when there was one. */
  httpStatusCode?: number;
}
