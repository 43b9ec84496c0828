/**
 * Rollup cost against task size, by hand: `node --import tsx bench/src/task-size.ts [--batches=40]`.
 *
 * Rollups recompute a task from all of its spans, so a task id shared by many traces (a nightly
 * job's fixed id, a long agent session) costs more to update as it grows. Two stores in one run,
 * batch for batch the same spans (1,000 per batch: 100 traces of an agent span and nine tool calls
 * with a caller span each): in one every trace is its own task (the baseline), in the other every
 * trace names the same task. Prints the time to commit and roll up each batch, and the ratio.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDbStore } from '../../collector/src/store/index.js';
import type { SpanRecord } from '../../collector/src/model/span.js';
import { benchCache } from './support/paths.js';

const argument = (name: string): string | undefined =>
  process.argv.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
const batches = Number(argument('batches') ?? 40);
const TRACES_PER_BATCH = 100;
const SPANS_PER_TRACE = 10;

const hex = (value: number, length: number) => value.toString(16).padStart(length, '0');

const batchOf = (batch: number, taskIdOf: (trace: number) => string): SpanRecord[] => {
  const spans: SpanRecord[] = [];
  const startNs = BigInt(Date.now()) * 1_000_000n;
  for (let index = 0; index < TRACES_PER_BATCH; index++) {
    const trace = batch * TRACES_PER_BATCH + index + 1;
    const traceId = hex(trace, 32);
    const rootId = hex(trace * 16 + 1, 16);
    for (let span = 1; span <= SPANS_PER_TRACE; span++) {
      const at = startNs + BigInt(trace * 1_000_000 + span * 1_000);
      spans.push({
        traceId,
        spanId: span === 1 ? rootId : hex(trace * 16 + span, 16),
        parentSpanId: span === 1 ? null : rootId,
        name: span === 1 ? 'agent.run' : 'tools/call deploy',
        kind: span === 1 ? 'internal' : 'client',
        startTimeUnixNano: at,
        endTimeUnixNano: at + 500_000n,
        statusCode: span === 4 ? 'error' : 'unset',
        statusMessage: '',
        serviceName: 'agent',
        scopeName: 'bench',
        attributes:
          span === 1
            ? { 'mcpscope.task.id': taskIdOf(trace) }
            : {
                'mcp.method.name': 'tools/call',
                'gen_ai.tool.name': 'deploy',
                'mcpscope.arguments.fingerprint': `fingerprint-${span}`,
              },
        resourceAttributes: { 'service.name': 'agent' },
        events: [],
        links: [],
      });
    }
  }
  return spans;
};

const dir = join(benchCache, 'task-size');
mkdirSync(dir, { recursive: true });
const openStore = async (name: string) => {
  const path = join(dir, `${name}.duckdb`);
  for (const suffix of ['', '.wal']) rmSync(`${path}${suffix}`, { force: true });
  return DuckDbStore.open({ path });
};
const separate = await openStore('separate');
const shared = await openStore('shared');
const timed = async (store: DuckDbStore, spans: SpanRecord[]): Promise<number> => {
  const started = performance.now();
  await store.commit(spans);
  await store.flushRollups();
  return performance.now() - started;
};

console.log('| spans in the shared task | separate tasks ms | one shared task ms | shared ÷ separate |');
console.log('| --- | --- | --- | --- |');
for (let batch = 0; batch < batches; batch++) {
  // Alternating which store goes first, so neither always meets a warmer machine.
  const [first, second] =
    batch % 2 === 0 ? (['separate', 'shared'] as const) : (['shared', 'separate'] as const);
  const ms: Record<'separate' | 'shared', number> = { separate: 0, shared: 0 };
  for (const which of [first, second]) {
    ms[which] = await timed(
      which === 'separate' ? separate : shared,
      batchOf(batch, (trace) => (which === 'separate' ? `task-${trace}` : 'nightly-terraform')),
    );
  }
  const spans = (batch + 1) * TRACES_PER_BATCH * SPANS_PER_TRACE;
  if ((batch + 1) % 5 === 0 || batch === 0)
    console.log(
      `| ${spans.toLocaleString('en-US')} | ${ms.separate.toFixed(0)} | ${ms.shared.toFixed(0)} | ${(ms.shared / ms.separate).toFixed(1)}× |`,
    );
}
await separate.close();
await shared.close();
