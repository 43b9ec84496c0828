import type { Attributes } from '@opentelemetry/api';
import {
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_PROMPT_NAME,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_MCP_METHOD_NAME,
  ATTR_MCP_PROTOCOL_VERSION,
  ATTR_MCP_RESOURCE_URI,
  ATTR_MCP_SESSION_ID,
  ATTR_NETWORK_PROTOCOL_NAME,
  ATTR_NETWORK_TRANSPORT,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  GEN_AI_OPERATION_EXECUTE_TOOL,
  NETWORK_TRANSPORT_PIPE,
  NETWORK_TRANSPORT_TCP,
  MCP_METHOD_TOOLS_CALL,
} from './conventions.js';

/** The slice of a JSON-RPC request or notification the instrumentation reads. */
export interface McpMessage {
  method: string;
  params?: Record<string, unknown> & { _meta?: Record<string, unknown> };
}

/** The slice of an SDK transport the instrumentation reads; every field is optional and duck-typed. */
interface TransportLike {
  sessionId?: unknown;
  protocolVersion?: unknown;
  _protocolVersion?: unknown;
  _url?: unknown;
  _endpoint?: unknown;
  _serverParams?: unknown;
  constructor?: { name?: string };
}

const RESOURCE_URI_METHODS = new Set([
  'resources/read',
  'resources/subscribe',
  'resources/unsubscribe',
  'notifications/resources/updated',
]);

export interface RequestTarget {
  tool?: string;
  prompt?: string;
  resourceUri?: string;
}

export const requestTarget = (message: McpMessage): RequestTarget => {
  const params = message.params;
  if (!params) return {};
  const name = typeof params.name === 'string' ? params.name : undefined;
  if (message.method === MCP_METHOD_TOOLS_CALL) return { tool: name };
  if (message.method === 'prompts/get') return { prompt: name };
  if (RESOURCE_URI_METHODS.has(message.method) && typeof params.uri === 'string') {
    return { resourceUri: params.uri };
  }
  return {};
};

/** `{mcp.method.name} {target}` where target is the tool or prompt name; never the resource URI (cardinality). */
export const spanName = (method: string, target: RequestTarget): string => {
  const name = target.tool ?? target.prompt;
  return name === undefined ? method : `${method} ${name}`;
};

/** Method and target attributes, written into `attributes`. */
export const addMethodAttributes = (
  attributes: Attributes,
  method: string,
  target: RequestTarget,
  redactUri: (uri: string) => string,
): void => {
  attributes[ATTR_MCP_METHOD_NAME] = method;
  if (target.tool !== undefined) {
    attributes[ATTR_GEN_AI_TOOL_NAME] = target.tool;
    attributes[ATTR_GEN_AI_OPERATION_NAME] = GEN_AI_OPERATION_EXECUTE_TOOL;
  }
  if (target.prompt !== undefined) attributes[ATTR_GEN_AI_PROMPT_NAME] = target.prompt;
  if (target.resourceUri !== undefined) attributes[ATTR_MCP_RESOURCE_URI] = redactUri(target.resourceUri);
};

type TransportKind = 'pipe' | 'http' | 'websocket';

const transportKindFromClassName = (name: string): TransportKind | undefined => {
  if (/stdio/i.test(name)) return 'pipe';
  if (/websocket/i.test(name)) return 'websocket';
  if (/http|sse/i.test(name)) return 'http';
  return undefined;
};

const transportKindFromUrl = (url: unknown): TransportKind | undefined => {
  if (!(url instanceof URL)) return undefined;
  return url.protocol === 'ws:' || url.protocol === 'wss:' ? 'websocket' : 'http';
};

/** What a transport class's name says, per class: the name does not change between requests. */
const kindByTransportClass = new WeakMap<object, TransportKind | undefined>();

const transportKind = (transport: TransportLike): TransportKind | undefined => {
  const transportClass = transport.constructor;
  let kind: TransportKind | undefined;
  if (typeof transportClass === 'function') {
    if (kindByTransportClass.has(transportClass)) {
      kind = kindByTransportClass.get(transportClass);
    } else {
      kind = transportKindFromClassName(transportClass.name ?? '');
      kindByTransportClass.set(transportClass, kind);
    }
  } else {
    kind = transportKindFromClassName(transportClass?.name ?? '');
  }
  return kind ?? transportKindFromUrl(transport._url);
};

/**
 * Session, protocol and network attributes read from the transport the protocol object is connected
 * to, written into `attributes`.
 */
export const addTransportAttributes = (
  attributes: Attributes,
  transport: unknown,
  direction: 'client' | 'server',
  knownProtocolVersion: string | undefined,
): void => {
  if (transport === null || typeof transport !== 'object') return;
  const t = transport as TransportLike;
  if (typeof t.sessionId === 'string' && t.sessionId !== '') attributes[ATTR_MCP_SESSION_ID] = t.sessionId;
  // The legacy SSE client learns its session only as the sessionId of the endpoint it posts to.
  else if (t._endpoint instanceof URL) {
    const sessionId = t._endpoint.searchParams.get('sessionId');
    if (sessionId) attributes[ATTR_MCP_SESSION_ID] = sessionId;
  }
  const version =
    knownProtocolVersion ??
    (typeof t.protocolVersion === 'string' ? t.protocolVersion : undefined) ??
    (typeof t._protocolVersion === 'string' ? t._protocolVersion : undefined);
  if (version !== undefined) attributes[ATTR_MCP_PROTOCOL_VERSION] = version;
  const kind = transportKind(t);
  if (kind === 'pipe') attributes[ATTR_NETWORK_TRANSPORT] = NETWORK_TRANSPORT_PIPE;
  if (kind === 'http' || kind === 'websocket') {
    attributes[ATTR_NETWORK_TRANSPORT] = NETWORK_TRANSPORT_TCP;
    attributes[ATTR_NETWORK_PROTOCOL_NAME] = kind;
    if (direction === 'client' && t._url instanceof URL) {
      attributes[ATTR_SERVER_ADDRESS] = t._url.hostname;
      const secure = t._url.protocol === 'https:' || t._url.protocol === 'wss:';
      attributes[ATTR_SERVER_PORT] = t._url.port === '' ? (secure ? 443 : 80) : Number(t._url.port);
    }
  }
};
