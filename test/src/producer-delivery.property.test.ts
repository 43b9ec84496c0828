/**
 * However the spans of a multi-producer workload reach the collector (any order, cut into any
 * requests, some delivered twice, rolled up after any request), its tasks come out the same: the
 * figures the recorded programs did (`fixtures/producers/*.truth.json`).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { collectorConfig, startCollector, type RunningCollector, type TaskDetail } from '@mcpscope/collector';
import {
  loadRecording,
  PRODUCER_STACKS,
  shiftedToNow,
  spansOf,
  type OtlpSpan,
  type Recording,
} from './support/producer-recordings.js';

/** One span with the resource and scope it was exported under, so it can travel in any request. */
interface Delivery {
  resource: unknown;
  scope: unknown;
  span: OtlpSpan;
}

let dir: string;
let collector: RunningCollector;
const recordings: Recording[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mcpscope-delivery-'));
  collector = await startCollector(
    collectorConfig({ httpPort: 0, grpcPort: 0, batchIntervalMs: 2, dbPath: join(dir, 'mcpscope.duckdb') }),
  );
  for (const stack of PRODUCER_STACKS) recordings.push(await loadRecording(stack));
}, 60_000);

afterAll(async () => {
  await collector?.close();
  await rm(dir, { recursive: true, force: true });
});

/** Every span of both recordings, its trace ids renamed for this run so each run's tasks are its own. */
const deliveriesOfRun = (run: number): Delivery[] => {
  const prefix = run.toString(16).padStart(8, '0');
  const deliveries: Delivery[] = [];
  for (const recording of recordings) {
    for (const request of shiftedToNow(recording.requests) as unknown as RawRequest[]) {
      for (const resourceSpans of request.resourceSpans) {
        for (const scopeSpans of resourceSpans.scopeSpans) {
          for (const span of scopeSpans.spans) {
            deliveries.push({
              resource: resourceSpans.resource,
              scope: scopeSpans.scope,
              span: { ...span, traceId: prefix + span.traceId.slice(8) },
            });
          }
        }
      }
    }
  }
  return deliveries;
};
interface RawRequest {
  resourceSpans: { resource: unknown; scopeSpans: { scope: unknown; spans: OtlpSpan[] }[] }[];
}

const requestOf = (deliveries: readonly Delivery[]): RawRequest => ({
  resourceSpans: deliveries.map((delivery) => ({
    resource: delivery.resource,
    scopeSpans: [{ scope: delivery.scope, spans: [delivery.span] }],
  })),
});

let runs = 0;

it('random orders, cuts and duplicate deliveries of a multi-producer workload give the same task figures', async () => {
  const spanCount = recordings.flatMap((recording) => recording.requests.flatMap(spansOf)).length;
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: spanCount, maxLength: spanCount }),
      fc.array(fc.nat(spanCount - 1), { maxLength: 40 }),
      fc.integer({ min: 1, max: 60 }),
      fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }),
      async (sortKeys, duplicated, requestSize, rollUpAfter) => {
        runs += 1;
        const run = runs;
        const spans = deliveriesOfRun(run);
        // A permutation of the spans, then some of them again, each duplicate at a random place.
        const order = spans.map((delivery, index) => ({ delivery, key: sortKeys[index] ?? 0 }));
        for (const [n, index] of duplicated.entries())
          order.push({ delivery: spans[index]!, key: sortKeys[(index + n) % spanCount] ?? 0 });
        order.sort((a, b) => a.key - b.key);
        const shuffled = order.map((entry) => entry.delivery);
        for (let start = 0, n = 0; start < shuffled.length; start += requestSize, n += 1) {
          const response = await fetch(`${collector.url}/v1/traces`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(requestOf(shuffled.slice(start, start + requestSize))),
          });
          expect(response.status).toBe(200);
          // A read waits for the rollup of everything acknowledged: rollups fall between requests here.
          if (rollUpAfter[n % rollUpAfter.length]) await fetch(`${collector.url}/api/tasks?limit=1`);
        }
        for (const recording of recordings) {
          for (const truth of recording.truth.tasks) {
            const root = recording.requests.flatMap(spansOf).find((span) => span.name === truth.rootSpan)!;
            const taskId = run.toString(16).padStart(8, '0') + root.traceId.slice(8);
            const response = await fetch(`${collector.url}/api/tasks/${taskId}`);
            expect(response.status, truth.task).toBe(200);
            const { task, calls } = (await response.json()) as TaskDetail;
            expect({ task: truth.task, ...task }).toMatchObject({
              task: truth.task,
              outcome: truth.outcome,
              toolCalls: truth.toolCalls,
              failedCalls: truth.failedCalls,
              retries: truth.retries,
              inputTokens: truth.inputTokens,
              outputTokens: truth.outputTokens,
            });
            expect([...new Set(calls.map((call) => call.tool))].sort()).toEqual(truth.tools);
            for (const call of calls) expect(call.service).toBe(`${recording.stack}-agent`);
          }
        }
      },
    ),
    { numRuns: 8 },
  );
}, 300_000);
