export { McpInstrumentation } from './instrumentation.js';
export { instrumentMcp } from './instrument-mcp.js';
export { recordAuthEvent, recordAuthFailure } from './auth-events.js';
export { withTask, currentTaskId, TaskIdSpanProcessor } from './task-context.js';
export { shortenOtlpGrpcReconnectBackoff } from './grpc-reconnect.js';
export {
  RetryingSpanExporter,
  SpansDroppedError,
  isRetryableExportError,
  type RetryOptions,
} from './retrying-span-exporter.js';
export type { McpInstrumentationConfig, McpRequestInfo, AuthEvent } from './types.js';
export * from './conventions.js';
export * from './checkpoints/index.js';
