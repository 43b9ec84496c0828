import { diag } from '@opentelemetry/api';
import type { McpTelemetry, ProtocolLike, RequestHandler } from './mcp-telemetry.js';
import type { McpMessage } from './request-attributes.js';

/**
 * The MCP SDK routes everything a client or server sends through one funnel (`request` in v1,
 * `_requestWithSchemaViaCodec` in v2, which `request`, `ctx.mcpReq.send` and `input_required` retries
 * all reach) and `notification`, and everything it receives through `_onrequest` and
 * `_onnotification`. Patching those four methods of `Protocol.prototype` covers `Client`, `Server` and
 * `McpServer` of both lines, whatever the transport, and handlers registered before or after the patch
 * (they are wrapped when first used). v2's client answers `input_required` in its own
 * `_resolveNonCompleteResult`, patched on the client's class when it first sends.
 *
 * A process can hold several copies of the SDK (its ESM and CommonJS builds, nested installs) and
 * of this package; the state lives on `globalThis` under registered symbols so every copy agrees.
 */

const PATCHED = Symbol.for('mcpscope.protocol.patched');
const ORIGINALS = Symbol.for('mcpscope.protocol.originals');
const WRAPPED_HANDLER = Symbol.for('mcpscope.handler.wrapped');
const ORIGINAL_HANDLER = Symbol.for('mcpscope.handler.original');
const ACTIVE = Symbol.for('mcpscope.telemetry.active');
const ROUNDS_PATCHED = Symbol.for('mcpscope.rounds.patched');

type Method = (this: ProtocolInternals, ...args: never[]) => unknown;
interface ProtocolInternals extends ProtocolLike {
  _requestHandlers?: Map<string, RequestHandler>;
  fallbackRequestHandler?: RequestHandler;
  _resolveNonCompleteResult?: Method;
  [ROUNDS_PATCHED]?: true;
}
interface ProtocolPrototype {
  request: Method;
  _requestWithSchemaViaCodec?: Method;
  notification: Method;
  _onrequest: Method;
  _onnotification: Method;
  [PATCHED]?: true;
  [ORIGINALS]?: Record<string, Method>;
}

const globals = globalThis as unknown as { [ACTIVE]?: McpTelemetry };

/** v2's outgoing funnel, and where its message and options are among its arguments. */
const V2_FUNNEL = '_requestWithSchemaViaCodec';
type Funnel = 'request' | typeof V2_FUNNEL;
const funnelOf = (proto: ProtocolPrototype): Funnel =>
  typeof proto[V2_FUNNEL] === 'function' ? V2_FUNNEL : 'request';

/** The flow of an `input_required` answer being retried: set while `flow.retry` sends, synchronously. */
let continuingCall: object | undefined;

interface NonCompleteFlow {
  request?: unknown;
  retry?: (...args: unknown[]) => unknown;
}

/**
 * v2's client resolves an `input_required` answer in `_resolveNonCompleteResult`, overridden by its
 * class: the round is recorded on the call's span and the retry it sends marked as the same call.
 */
const patchInputRequiredRounds = (instance: ProtocolInternals): void => {
  if (instance[ROUNDS_PATCHED]) return;
  let owner: object | null = Object.getPrototypeOf(instance) as object | null;
  while (owner && !Object.prototype.hasOwnProperty.call(owner, '_resolveNonCompleteResult'))
    owner = Object.getPrototypeOf(owner) as object | null;
  if (!owner) return;
  const target = owner as { _resolveNonCompleteResult: Method; [ROUNDS_PATCHED]?: true };
  Object.defineProperty(target, ROUNDS_PATCHED, { value: true, configurable: true });
  const original = target._resolveNonCompleteResult;
  target._resolveNonCompleteResult = function _resolveNonCompleteResult(
    this: ProtocolInternals,
    ...args: unknown[]
  ) {
    const telemetry = activeTelemetry();
    const decoded = args[0] as { kind?: unknown; inputRequests?: unknown } | undefined;
    const flow = args[1] as NonCompleteFlow | undefined;
    const call = flow?.request;
    if (!telemetry || decoded?.kind !== 'input_required' || !flow || typeof call !== 'object' || !call)
      return original.apply(this, args as never[]);
    telemetry.recordInputRequired(call, decoded.inputRequests);
    const retry = flow.retry;
    if (typeof retry !== 'function') return original.apply(this, args as never[]);
    const tracedFlow = {
      ...flow,
      retry: (...retryArgs: unknown[]) => {
        continuingCall = call;
        try {
          return retry(...retryArgs);
        } finally {
          continuingCall = undefined;
        }
      },
    };
    return original.apply(this, [args[0], tracedFlow, ...args.slice(2)] as never[]);
  } as Method;
};

/** The telemetry the patches report to; undefined turns them into pass-throughs. */
export const setActiveTelemetry = (telemetry: McpTelemetry | undefined): void => {
  globals[ACTIVE] = telemetry;
};
export const activeTelemetry = (): McpTelemetry | undefined => globals[ACTIVE];

export const isProtocolPrototype = (candidate: unknown): candidate is ProtocolPrototype => {
  if (candidate === null || typeof candidate !== 'object') return false;
  const proto = candidate as Partial<ProtocolPrototype>;
  return (
    Object.prototype.hasOwnProperty.call(proto, 'request') &&
    typeof proto.request === 'function' &&
    typeof proto.notification === 'function' &&
    typeof proto._onrequest === 'function' &&
    typeof proto._onnotification === 'function'
  );
};

/** Finds `Protocol.prototype` on the prototype chain of a client or server instance. */
export const findProtocolPrototype = (instance: object): ProtocolPrototype | undefined => {
  for (let proto = Object.getPrototypeOf(instance); proto; proto = Object.getPrototypeOf(proto)) {
    if (isProtocolPrototype(proto)) return proto;
  }
  return undefined;
};

/** Wraps a handler once; the wrapper asks for the active telemetry per call, so disabling works on wrapped handlers too. */
const wrapHandlerOnce = (protocol: ProtocolInternals, handler: RequestHandler): RequestHandler => {
  if ((handler as { [WRAPPED_HANDLER]?: true })[WRAPPED_HANDLER]) return handler;
  const wrapped: RequestHandler = function mcpscopeTracedHandler(this: unknown, request, extra) {
    const telemetry = activeTelemetry();
    if (!telemetry) return handler.call(this, request, extra);
    return telemetry.traceHandler(protocol, handler, this, request, extra);
  };
  Object.defineProperty(wrapped, WRAPPED_HANDLER, { value: true });
  Object.defineProperty(wrapped, ORIGINAL_HANDLER, { value: handler });
  return wrapped;
};

/** The application's own handler of `method` on a client or server, unwrapped (no span of ours). */
export const registeredHandler = (protocol: object, method: string): RequestHandler | undefined => {
  const handler = (protocol as ProtocolInternals)._requestHandlers?.get(method);
  return (handler as { [ORIGINAL_HANDLER]?: RequestHandler } | undefined)?.[ORIGINAL_HANDLER] ?? handler;
};

export const patchProtocolPrototype = (proto: ProtocolPrototype): boolean => {
  if (proto[PATCHED]) return false;
  const funnel = funnelOf(proto);
  const messageAt = funnel === 'request' ? 0 : 1;
  const original = {
    [funnel]: proto[funnel] as Method,
    notification: proto.notification,
    _onrequest: proto._onrequest,
    _onnotification: proto._onnotification,
  } as Record<Funnel | 'notification' | '_onrequest' | '_onnotification', Method>;
  const send = original[funnel];

  proto[funnel] = function tracedRequest(this: ProtocolInternals, ...args: unknown[]) {
    const telemetry = activeTelemetry();
    const message = args[messageAt] as McpMessage | undefined;
    if (!telemetry || !message || typeof message.method !== 'string') {
      return send.apply(this, args as never[]);
    }
    const continued = continuingCall;
    continuingCall = undefined;
    const forward = (outgoing: McpMessage) => {
      args[messageAt] = outgoing;
      return send.apply(this, args as never[]) as Promise<unknown>;
    };
    if (continued !== undefined) return telemetry.traceContinuation(continued, message, forward);
    const hasRounds = funnel === V2_FUNNEL && typeof this._resolveNonCompleteResult === 'function';
    if (hasRounds) patchInputRequiredRounds(this);
    // `args` is this call's own array: the outgoing copy of the message takes the message's place.
    const options = args[messageAt + 2] as
      { signal?: { aborted?: boolean }; relatedTask?: unknown } | undefined;
    return telemetry.traceRequest(this, message, forward, options?.signal, hasRounds, options?.relatedTask);
  } as Method;

  proto.notification = function notification(this: ProtocolInternals, ...args: unknown[]) {
    const telemetry = activeTelemetry();
    const message = args[0] as McpMessage | undefined;
    if (!telemetry?.notificationsEnabled || !message || typeof message.method !== 'string') {
      return original.notification.apply(this, args as never[]);
    }
    return telemetry.traceNotification(this, message, (outgoing) => {
      args[0] = outgoing;
      return original.notification.apply(this, args as never[]) as Promise<void>;
    });
  } as Method;

  proto._onrequest = function _onrequest(this: ProtocolInternals, ...args: unknown[]) {
    const telemetry = activeTelemetry();
    const request = args[0] as (McpMessage & { id?: unknown }) | undefined;
    if (telemetry && request && typeof request.method === 'string') {
      try {
        const handlers = this._requestHandlers;
        const handler = handlers?.get(request.method);
        if (handler && handlers) {
          const wrapped = wrapHandlerOnce(this, handler);
          if (wrapped !== handler) handlers.set(request.method, wrapped);
        } else if (this.fallbackRequestHandler) {
          this.fallbackRequestHandler = wrapHandlerOnce(this, this.fallbackRequestHandler);
        } else {
          telemetry.recordUnhandledRequest(this, request);
        }
      } catch (error) {
        diag.error('mcpscope: could not wrap a request handler', error);
      }
    }
    return original._onrequest.apply(this, args as never[]);
  } as Method;

  proto._onnotification = function _onnotification(this: ProtocolInternals, ...args: unknown[]) {
    const telemetry = activeTelemetry();
    const notification = args[0] as McpMessage | undefined;
    if (telemetry?.notificationsEnabled && notification && typeof notification.method === 'string') {
      telemetry.recordNotificationReceived(this, notification);
    }
    return original._onnotification.apply(this, args as never[]);
  } as Method;

  Object.defineProperty(proto, ORIGINALS, { value: original, configurable: true });
  Object.defineProperty(proto, PATCHED, { value: true, configurable: true });
  return true;
};

export const unpatchProtocolPrototype = (proto: ProtocolPrototype): void => {
  const original = proto[ORIGINALS];
  if (!proto[PATCHED] || !original) return;
  Object.assign(proto, original);
  delete proto[ORIGINALS];
  delete proto[PATCHED];
};
