/**
 * The floor: the least any instrumentation that traces both sides of an MCP call pays. One CLIENT
 * span around the client's `request`, its context injected into a copy of `params._meta`; one SERVER
 * span around the server's `tools/call` handler, parented by the context extracted from `_meta`.
 * No attributes, no arguments, no result, no error classification: written by hand for the bench.
 */
import { context, propagation, SpanKind, trace, type Context, type Span } from '@opentelemetry/api';
import type { Client, McpServer } from './call-fixture.js';

/**
 * Argument work added to the floor on both sides (the `floor-arguments` variant): what mcpscope
 * records of a tool call's arguments, with its own fingerprint and redaction engine, nothing else.
 */
export type ArgumentWork = (span: Span, args: unknown) => void;

interface Message {
  method: string;
  params?: { name?: unknown; _meta?: Record<string, unknown> } & Record<string, unknown>;
}
type Request = (message: Message, ...rest: unknown[]) => Promise<unknown>;
type Handler = (request: Message, extra: unknown) => unknown;

const tracer = () => trace.getTracer('bench-floor');

const spanNameOf = (message: Message): string =>
  typeof message.params?.name === 'string' ? `${message.method} ${message.params.name}` : message.method;

/** The client's requests: a CLIENT span each, its context carried in `_meta`. */
export const traceClientRequests = (client: Client, argumentWork?: ArgumentWork): void => {
  const target = client as unknown as { request: Request };
  const request = target.request.bind(target);
  target.request = function floorRequest(message, ...rest) {
    const parent = context.active();
    const span = tracer().startSpan(spanNameOf(message), { kind: SpanKind.CLIENT }, parent);
    if (argumentWork && message.method === 'tools/call') argumentWork(span, message.params?.arguments);
    const spanContext = trace.setSpan(parent, span);
    const meta: Record<string, unknown> = { ...(message.params?._meta ?? {}) };
    propagation.inject(spanContext, meta);
    const outgoing = { ...message, params: { ...(message.params ?? {}), _meta: meta } };
    return context.with(spanContext, request, undefined, outgoing, ...rest).then(
      (result) => {
        span.end();
        return result;
      },
      (error: unknown) => {
        span.end();
        throw error;
      },
    );
  };
};

const metaGetter = {
  keys: (carrier: Record<string, unknown>) => Object.keys(carrier),
  get: (carrier: Record<string, unknown>, key: string) => {
    const value = carrier[key];
    return typeof value === 'string' ? value : undefined;
  },
};

/** The server's `tools/call` handler (registered by `registerTool`): a SERVER span each. */
export const traceServerToolCalls = (server: McpServer, argumentWork?: ArgumentWork): McpServer => {
  const handlers = (server.server as unknown as { _requestHandlers: Map<string, Handler> })._requestHandlers;
  const handler = handlers.get('tools/call');
  if (!handler) throw new Error('the server has no tools/call handler yet');
  handlers.set('tools/call', function floorHandler(this: unknown, request, extra) {
    const meta = request.params?._meta;
    const parent: Context = meta ? propagation.extract(context.active(), meta, metaGetter) : context.active();
    const span = tracer().startSpan(spanNameOf(request), { kind: SpanKind.SERVER }, parent);
    argumentWork?.(span, request.params?.arguments);
    return Promise.resolve(context.with(trace.setSpan(parent, span), handler, this, request, extra)).then(
      (result) => {
        span.end();
        return result;
      },
      (error: unknown) => {
        span.end();
        throw error;
      },
    );
  });
  return server;
};
