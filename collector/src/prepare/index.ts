export { PreparePool } from './prepare-pool.js';
export type { PreparePoolOptions } from './prepare-pool.js';
export { PreparerBusyError, prepareSpans } from './prepare-spans.js';
export type { PreparedSpans, SpanPreparer, TraceRequestFormat } from './prepare-spans.js';
