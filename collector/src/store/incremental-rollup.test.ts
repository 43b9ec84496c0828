import { afterEach, describe, expect, it } from 'vitest';
import {
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  ATTR_MCPSCOPE_AUTH_OUTCOME,
  ATTR_MCPSCOPE_TASK_ID,
} from '@mcpscope/instrumentation/conventions';
import type { SpanRecord } from '../model/span.js';
import { makeSpan, toolCallSpan } from '../pipeline/test-support/spans.js';
import { openTempStore } from './test-support/temp-store.js';
import type { DuckDbStore } from './duckdb-store.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** A small deterministic generator, so a failing seed can be replayed. */
const random = (seed: number) => {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  return {
    chance: (p: number) => next() < p,
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T,
    between: (low: number, high: number) => low + Math.floor(next() * (high - low + 1)),
  };
};

/**
 * Traces of tasks with a shared task id: mostly one after another (what an extension takes), some
 * overlapping the task so far (what it must leave to a recompute), with roots that fail or not or
 * are missing, calls seen by caller and server, retries by fingerprint, unfingerprinted failures,
 * nested token usage and auth failures.
 */
const workload = (seed: number): SpanRecord[][] => {
  const rnd = random(seed);
  const traces: SpanRecord[][] = [];
  for (let task = 0; task < 4; task++) {
    const taskId = `task-${seed}-${task}`;
    let clockMs = task * 100_000;
    const traceCount = rnd.between(2, 6);
    for (let index = 0; index < traceCount; index++) {
      const trace = `${taskId}-trace-${index}`;
      // Now and then a trace starts before the task so far ended.
      const startMs =
        rnd.chance(0.2) && index > 0 ? clockMs - rnd.between(1, 50) : clockMs + rnd.between(1, 20);
      const spans: SpanRecord[] = [];
      const hasRoot = rnd.chance(0.6);
      const root = `${trace}-root`;
      // Without a root the other spans hang off the first call, so the trace has no root at all.
      const parent = hasRoot ? root : `${trace}-call-0`;
      let at = startMs;
      const callCount = rnd.between(1, 5);
      for (let call = 0; call < callCount; call++) {
        const span = `${trace}-call-${call}`;
        const fingerprint = rnd.chance(0.75) ? `fp-${rnd.between(0, 2)}` : undefined;
        const failed = rnd.chance(0.35);
        const tool = rnd.pick(['plan', 'apply', 'refresh']);
        spans.push(
          toolCallSpan({
            trace,
            span,
            ...(hasRoot && { parent: root }),
            kind: 'client',
            startMs: at,
            durationMs: 3,
            service: rnd.pick(['agent', 'agent', 'helper']),
            tool,
            ...(fingerprint !== undefined && { fingerprint }),
            ...(failed && { errorType: 'tool_error' }),
            error: failed,
          }),
        );
        if (rnd.chance(0.5))
          spans.push(
            toolCallSpan({
              trace,
              span: `${span}-server`,
              parent: span,
              kind: 'server',
              startMs: at + 1,
              durationMs: 1,
              service: 'infra',
              tool,
            }),
          );
        at += 5;
      }
      if (rnd.chance(0.6)) {
        const chain = `${trace}-chain`;
        spans.push(
          makeSpan({
            trace,
            span: chain,
            parent,
            startMs: at,
            durationMs: 4,
            service: 'agent',
            attributes: { [ATTR_GEN_AI_USAGE_INPUT_TOKENS]: 500, [ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: 90 },
          }),
          makeSpan({
            trace,
            span: `${trace}-model`,
            parent: chain,
            startMs: at + 1,
            durationMs: 2,
            service: 'agent',
            attributes: { [ATTR_GEN_AI_USAGE_INPUT_TOKENS]: rnd.between(10, 400) },
          }),
        );
        at += 5;
      }
      if (rnd.chance(0.2))
        spans.push(
          makeSpan({
            trace,
            span: `${trace}-auth`,
            parent,
            startMs: at,
            durationMs: 1,
            service: 'infra',
            attributes: { [ATTR_MCPSCOPE_AUTH_OUTCOME]: 'failure' },
          }),
        );
      const taskAttribute = { [ATTR_MCPSCOPE_TASK_ID]: taskId };
      if (hasRoot)
        spans.push(
          makeSpan({
            trace,
            span: root,
            startMs: startMs - 1,
            durationMs: at - startMs + 3,
            service: 'agent',
            error: rnd.chance(0.2),
            attributes: taskAttribute,
          }),
        );
      else spans[0] = { ...spans[0]!, attributes: { ...spans[0]!.attributes, ...taskAttribute } };
      clockMs = Math.max(clockMs, at + 3);
      traces.push(spans);
    }
  }
  return traces;
};

const everything = async (store: DuckDbStore) => {
  await store.flushRollups();
  const { tasks } = await store.listTasks({ limit: 1000 });
  const details = [];
  for (const task of tasks) {
    const detail = await store.getTask(task.taskId);
    details.push({
      task: detail?.task,
      calls: [...(detail?.calls ?? [])].sort((a, b) => (a.spanId < b.spanId ? -1 : 1)),
    });
  }
  return { tasks, details, tools: await store.listTools({}) };
};

/** Rolls the traces up one at a time, extending wherever possible, and all at once, recomputing. */
const bothWays = async (traces: readonly SpanRecord[][]) => {
  const extending = await openTempStore({ incrementalTaskSpans: 0 });
  cleanups.push(extending.cleanup);
  for (const spans of traces) {
    await extending.store.commit(spans);
    await extending.store.flushRollups();
  }
  const recomputing = await openTempStore({ incrementalTaskSpans: Number.MAX_SAFE_INTEGER });
  cleanups.push(recomputing.cleanup);
  for (const spans of traces) await recomputing.store.commit(spans);
  return { extended: await everything(extending.store), recomputed: await everything(recomputing.store) };
};

describe('tasks extended from their stored rollup', () => {
  it.each(Array.from({ length: 16 }, (_, index) => index + 1))(
    'equal tasks recomputed from all of their spans (seed %i)',
    async (seed) => {
      const { extended, recomputed } = await bothWays(workload(seed));
      expect(extended).toEqual(recomputed);
    },
  );

  it("take a later trace's failed root as the task's root when the task had none", async () => {
    const call = (trace: string, startMs: number, parent?: string) =>
      toolCallSpan({
        trace,
        span: `${trace}-call`,
        ...(parent !== undefined && { parent }),
        kind: 'client',
        startMs,
        durationMs: 2,
        service: 'agent',
        tool: 'plan',
        fingerprint: `fp-${trace}`,
        attributes: { [ATTR_MCPSCOPE_TASK_ID]: 'nightly' },
      });
    const { extended, recomputed } = await bothWays([
      [call('first', 0)],
      [
        makeSpan({
          trace: 'second',
          span: 'second-root',
          startMs: 10,
          durationMs: 5,
          service: 'agent',
          error: true,
        }),
        call('second', 11, 'second-root'),
      ],
    ]);
    expect(recomputed.tasks.map((task) => task.outcome)).toEqual(['failed']);
    expect(extended).toEqual(recomputed);
  });
});
