import type { Attributes } from '@opentelemetry/api';
import {
  ATTR_MCP_PROTOCOL_VERSION,
  ATTR_MCP_SESSION_ID,
  ATTR_MCPSCOPE_CLIENT_NAME,
  ATTR_MCPSCOPE_CLIENT_VERSION,
  ATTR_MCPSCOPE_CONTINUATION,
  FIRST_STATELESS_PROTOCOL_VERSION,
  META_CLIENT_INFO,
  META_PROTOCOL_VERSION,
} from './conventions.js';

/**
 * What a request handler receives besides the request: v1's `extra` (`sessionId`, `signal`) or v2's
 * `ctx` (`sessionId`, `mcpReq.signal`, `mcpReq.envelope` with the 2026-07-28 `_meta` identity keys the
 * SDK lifted off the request, `mcpReq.inputResponses` on a re-sent call). Every field is duck-typed.
 */
export interface HandlerExtra {
  sessionId?: unknown;
  signal?: { aborted?: boolean };
  mcpReq?: {
    signal?: { aborted?: boolean };
    envelope?: Record<string, unknown>;
    inputResponses?: unknown;
    requestState?: unknown;
  };
}

/** Whether a protocol revision is one of the stateless ones (2026-07-28 on): dates compare as text. */
export const isStatelessProtocol = (version: unknown): boolean =>
  typeof version === 'string' && version >= FIRST_STATELESS_PROTOCOL_VERSION;

/** The caller's cancellation signal, v1 or v2. */
export const handlerSignal = (extra: HandlerExtra | undefined): { aborted?: boolean } | undefined =>
  extra?.signal ?? extra?.mcpReq?.signal;

const requestStateOf = (requestState: unknown): unknown => {
  if (typeof requestState !== 'function') return requestState;
  try {
    return (requestState as () => unknown)();
  } catch {
    return undefined;
  }
};

/** Name and version from a `clientInfo` object, as attributes. */
export const addClientIdentity = (attributes: Attributes, clientInfo: unknown): void => {
  if (clientInfo === null || typeof clientInfo !== 'object') return;
  const { name, version } = clientInfo as { name?: unknown; version?: unknown };
  if (typeof name === 'string') attributes[ATTR_MCPSCOPE_CLIENT_NAME] = name.slice(0, 128);
  if (typeof version === 'string') attributes[ATTR_MCPSCOPE_CLIENT_VERSION] = version.slice(0, 64);
};

/**
 * Receiver-side attributes from the handler's context: the 2026-07-28 envelope (protocol version and
 * client identity per request), the session (legacy peers only), and whether the request re-sends a
 * call with the answers to its `input_required` round.
 */
export const addHandlerContextAttributes = (
  attributes: Attributes,
  extra: HandlerExtra | undefined,
  rawMeta: Record<string, unknown> | undefined,
): void => {
  const envelope = extra?.mcpReq?.envelope ?? rawMeta;
  const version = envelope?.[META_PROTOCOL_VERSION];
  if (typeof version === 'string') attributes[ATTR_MCP_PROTOCOL_VERSION] = version;
  addClientIdentity(attributes, envelope?.[META_CLIENT_INFO]);
  const stateless = isStatelessProtocol(attributes[ATTR_MCP_PROTOCOL_VERSION]);
  if (stateless) delete attributes[ATTR_MCP_SESSION_ID];
  else if (typeof extra?.sessionId === 'string' && extra.sessionId !== '')
    attributes[ATTR_MCP_SESSION_ID] = extra.sessionId;
  const mcpReq = extra?.mcpReq;
  if (mcpReq && (mcpReq.inputResponses !== undefined || requestStateOf(mcpReq.requestState) !== undefined))
    attributes[ATTR_MCPSCOPE_CONTINUATION] = true;
};
