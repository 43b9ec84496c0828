/**
 * The one import: `import '@mcpscope/instrumentation/register'` (ESM), `require(...)` (CommonJS) or
 * `node --import @mcpscope/instrumentation/register app.js` (see `start-tracing.ts`).
 */
import { createRequire } from 'node:module';
import { isMainThread, parentPort } from 'node:worker_threads';
import type * as StartTracing from './start-tracing.js';

/**
 * Node's module loader hooks run on an internal thread that runs `--require` preloads again (Node 20):
 * tracing started there would export nothing of the application's and load everything a second time.
 * Unlike the threads an application starts, that thread has no `parentPort`; there this does nothing.
 */
const inLoaderHooksThread = !isMainThread && parentPort === null;

/** Settles once instrumentation is in place (ESM copies of the SDK patched). Never rejects. */
export const ready: Promise<void> = inLoaderHooksThread
  ? Promise.resolve()
  : (createRequire(__filename)('./start-tracing.js') as typeof StartTracing).ready;
