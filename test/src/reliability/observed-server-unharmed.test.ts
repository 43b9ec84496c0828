import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../support/processes.js';
import { FAULT_KINDS, startFaultEndpoint, type FaultEndpoint } from './support/fault-endpoints.js';
import { heapUsedAfterGc, startExportingPair, type ExportingPair } from './support/exporting-pair.js';
import { startMemoryReceiver } from './support/memory-receiver.js';

const MAX_QUEUE = 512;
const DIAGNOSTIC_INTERVAL_MS = 1_000;
const WARM_UP_CALLS = 500;
const LOAD_CALLS = 4_000;
/** Two spans per call at roughly a kilobyte each: an unbounded queue would grow by several MiB. */
const HEAP_GROWTH_LIMIT = 4 * 1024 * 1024;
/**
 * The retrying exporter gives up on a batch after this long here (20 s in the one import), so a
 * failure reaches stderr and the queue drains within a test; the behaviour is the same, only sooner.
 */
const RETRY_BUDGET_MS = 3_000;

let pair: ExportingPair | undefined;
let fault: FaultEndpoint | undefined;
let receiver: Awaited<ReturnType<typeof startMemoryReceiver>> | undefined;
afterEach(async () => {
  await pair?.shutDown();
  await fault?.close();
  await receiver?.close();
  pair = undefined;
  fault = undefined;
  receiver = undefined;
});

const callMany = async (target: ExportingPair, count: number, label: string) => {
  for (let index = 0; index < count; index += 1) {
    const text = await target.callTool(`${label}-${index}`);
    expect(text).toBe(`workspaces matching ${label}-${index}: prod, staging`);
    if (index % 250 === 0) await target.accounting();
  }
};

/** Lines whose text differs only in numbers count as the same diagnostic. */
const diagnosticKey = (text: string) => text.replace(/\d+/g, '#');

const expectRateLimitedDiagnostics = (target: ExportingPair) => {
  expect(target.diagnostics.length, 'the failure is reported on stderr').toBeGreaterThan(0);
  const lastSeen = new Map<string, number>();
  for (const line of target.diagnostics) {
    const key = diagnosticKey(line.text);
    const previous = lastSeen.get(key);
    if (previous !== undefined) {
      expect(line.at - previous, `repeated within the interval: ${line.text}`).toBeGreaterThanOrEqual(
        DIAGNOSTIC_INTERVAL_MS - 50,
      );
    }
    lastSeen.set(key, line.at);
  }
  // Each diagnostic ends its line, however long, so the next one does not run into it on stderr.
  for (const line of target.diagnostics) {
    expect(line.text.endsWith('\n'), `a diagnostic is one whole line: …${line.text.slice(-120)}`).toBe(true);
  }
};

describe('an instrumented server whose OTLP endpoint misbehaves', () => {
  it.each(FAULT_KINDS)(
    'answers every tool call, keeps the queue bounded and reports drops (%s)',
    async (kind) => {
      fault = await startFaultEndpoint(kind);
      pair = await startExportingPair({
        endpoint: `http://127.0.0.1:${fault.port}`,
        maxQueueSize: MAX_QUEUE,
        diagnosticIntervalMs: DIAGNOSTIC_INTERVAL_MS,
        retryMaxElapsedMs: RETRY_BUDGET_MS,
      });

      await callMany(pair, WARM_UP_CALLS, 'warm-up');
      const heapBefore = heapUsedAfterGc();
      await callMany(pair, LOAD_CALLS, 'load');
      const heapAfter = heapUsedAfterGc();
      // Give the processor time to try, retry, give up and report at least once.
      await new Promise((resolve) => setTimeout(resolve, RETRY_BUDGET_MS + 2_500));

      const accounting = await pair.accounting();
      const spansEnded = pair.spansEnded();
      expect(spansEnded).toBeGreaterThanOrEqual(2 * (WARM_UP_CALLS + LOAD_CALLS));
      expect(accounting.maxQueueSize).toBeLessThanOrEqual(MAX_QUEUE);
      expect(accounting.exported, 'nothing can be exported to a faulty endpoint').toBe(0);
      expect(
        accounting.droppedQueueFull,
        'spans beyond the queue bound are dropped and counted',
      ).toBeGreaterThan(0);
      expect(
        accounting.droppedQueueFull + accounting.failedExport + accounting.queueSize,
      ).toBeLessThanOrEqual(spansEnded);
      expect(heapAfter - heapBefore).toBeLessThan(HEAP_GROWTH_LIMIT);
      expectRateLimitedDiagnostics(pair);
    },
  );

  it.each(FAULT_KINDS)(
    'delivers the spans still queued once the endpoint recovers (%s)',
    { timeout: 120_000 },
    async (kind) => {
      fault = await startFaultEndpoint(kind);
      const batchSize = 256;
      pair = await startExportingPair({
        endpoint: `http://127.0.0.1:${fault.port}`,
        maxQueueSize: MAX_QUEUE,
        maxExportBatchSize: batchSize,
        // Exports start when a batch fills or after this delay, so spans can be seen waiting in the queue.
        scheduledDelayMillis: 4_000,
        diagnosticIntervalMs: DIAGNOSTIC_INTERVAL_MS,
        retryMaxElapsedMs: RETRY_BUDGET_MS,
      });
      await callMany(pair, 1_000, 'during-fault');
      const active = pair;
      // Wait until the queue is empty and no export is in flight: every ended span counted as dropped or failed.
      await eventually(
        async () => {
          const accounting = await active.accounting();
          const accounted = accounting.droppedQueueFull + accounting.failedExport;
          return accounting.queueSize === 0 && accounted === active.spansEnded() ? accounting : undefined;
        },
        { what: 'failed exports to settle', timeoutMs: 40_000, intervalMs: 100 },
      );
      // Fewer spans than a batch: they wait in the queue for the scheduled delay, past the recovery.
      const pendingCalls = Math.floor((batchSize - 1) / 2);
      await callMany(pair, pendingCalls, 'pending');

      const port = fault.port;
      await fault.close();
      fault = undefined;
      receiver = await startMemoryReceiver(port);
      const delivered = receiver.spans;

      const pendingDelivered = await eventually(
        () => {
          const seen = delivered.filter(
            (span) =>
              span.kind === 'server' &&
              String(span.attributes['gen_ai.tool.call.arguments']).includes('pending-'),
          );
          return seen.length === pendingCalls ? seen : undefined;
        },
        { what: `the ${pendingCalls} queued tool-call spans at the recovered endpoint`, timeoutMs: 25_000 },
      );
      expect(pendingDelivered).toHaveLength(pendingCalls);
      // The exporter hears the answer just after the receiver committed.
      await eventually(
        async () => ((await active.accounting()).exported >= 2 * pendingCalls ? true : undefined),
        {
          what: 'the exporter to count the delivered spans',
          timeoutMs: 5_000,
          intervalMs: 50,
        },
      );
      // New calls after recovery flow as usual.
      await callMany(pair, 10, 'after-recovery');
      await pair.forceFlush();
      expect(
        delivered.filter((span) =>
          String(span.attributes['gen_ai.tool.call.arguments']).includes('after-recovery-'),
        ),
      ).toHaveLength(20);
    },
  );
});
