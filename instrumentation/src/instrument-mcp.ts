import { diag } from '@opentelemetry/api';
import { McpInstrumentation } from './instrumentation.js';
import { activeTelemetry, findProtocolPrototype, patchProtocolPrototype } from './patch-protocol.js';
import type { McpInstrumentationConfig } from './types.js';

const INSTANCE = Symbol.for('mcpscope.instrumentation.explicit');
const globals = globalThis as unknown as { [INSTANCE]?: McpInstrumentation };

/**
 * Instruments one MCP `Client`, `Server` or `McpServer` explicitly, for the places module patching
 * cannot reach (a bundled SDK, an SDK copy outside the application's node_modules). Uses the global
 * tracer provider. Returns its argument; safe to call more than once.
 */
export const instrumentMcp = <T extends object>(
  serverOrClient: T,
  config: McpInstrumentationConfig = {},
): T => {
  try {
    const target = (serverOrClient as { server?: object }).server ?? serverOrClient;
    const proto = findProtocolPrototype(target);
    if (!proto) {
      diag.warn('mcpscope: instrumentMcp was given an object that is not an MCP SDK client or server');
      return serverOrClient;
    }
    if (activeTelemetry()) {
      // An instrumentation is already on (the one import, or the application's own NodeSDK).
      patchProtocolPrototype(proto);
      return serverOrClient;
    }
    const instrumentation = (globals[INSTANCE] ??= new McpInstrumentation(config));
    instrumentation.enable();
    instrumentation.patchPrototype(proto);
  } catch (error) {
    diag.error('mcpscope: instrumentMcp failed', error);
  }
  return serverOrClient;
};
