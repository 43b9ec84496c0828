import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterEach, describe, expect, it } from 'vitest';
import { ATTR_MCPSCOPE_TASK_ID } from '@mcpscope/instrumentation/conventions';
import { BASE_MS, BASE_NS, toolCallSpan, traceId, spanId } from '../../pipeline/test-support/spans.js';
import { spanFacts } from '../../rollup/index.js';
import { DuckDbStore } from '../duckdb-store.js';
import { appendSpans } from './appenders.js';
import { MIGRATIONS } from './migrations.js';

let dir: string | undefined;
afterEach(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

const call = (span: string, startMs: number, failed: boolean) =>
  toolCallSpan({
    trace: 'old',
    span,
    kind: 'client',
    startMs,
    durationMs: 40,
    service: 'agent',
    tool: 'deploy',
    fingerprint: 'fp-deploy',
    ...(failed ? { error: true, errorType: 'tool_error' } : {}),
    attributes: { [ATTR_MCPSCOPE_TASK_ID]: 'old-task' },
  });

/**
 * A file as the first releases wrote it: the schema of versions 1 and 2 only, one task with one
 * failed call, and a verdict an evaluator sent as a span (then stored in `feedback`).
 */
const writeVersion2File = async (path: string) => {
  const instance = await DuckDBInstance.create(path);
  const connection = await instance.connect();
  await connection.run(
    'CREATE TABLE schema_migrations (version INTEGER NOT NULL, description VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)',
  );
  for (const migration of MIGRATIONS.filter((m) => m.version <= 2)) {
    for (const statement of migration.statements) await connection.run(statement);
    await connection.run('INSERT INTO schema_migrations VALUES ($version, $description, now())', {
      version: migration.version,
      description: migration.description,
    });
  }
  const failed = call('first', 0, true);
  // Today's appender writes the columns a later version added to the span table; the row is written
  // with them and they are dropped again, so the file has exactly the columns of version 2.
  const added = MIGRATIONS.filter((m) => m.version > 2)
    .flatMap((m) => m.statements)
    .map((statement) => /^ALTER TABLE spans ADD COLUMN (\w+)/.exec(statement)?.[1])
    .filter((column): column is string => column !== undefined);
  for (const column of added) await connection.run(`ALTER TABLE spans ADD COLUMN ${column} VARCHAR`);
  await appendSpans(connection, [failed], [spanFacts(failed)]);
  for (const column of added) await connection.run(`ALTER TABLE spans DROP COLUMN ${column}`);
  const startNs = BASE_NS;
  const endNs = BASE_NS + 40_000_000n;
  await connection.run(
    `INSERT INTO traces (trace_id, task_id, min_start_ns, max_end_ns) VALUES ($trace, 'old-task', $start, $end)`,
    { trace: traceId('old'), start: startNs, end: endNs },
  );
  await connection.run(
    `INSERT INTO tasks VALUES ('old-task', [$trace], 'failed', $start, $end, 40.0, ['agent'], ['deploy'],
       1, 1, 0, 0, 0, 0, 0)`,
    { trace: traceId('old'), start: startNs, end: endNs },
  );
  await connection.run(
    `INSERT INTO calls VALUES ('old-task', $trace, $span, 'agent', 'tools/call', 'deploy', 'error', 'tool_error',
       40.0, NULL, 'fp-deploy', NULL, $start)`,
    { trace: traceId('old'), span: spanId('first'), start: startNs },
  );
  await connection.run(
    `INSERT INTO feedback VALUES ('old-task', 'incorrect', 'wrong region', 'span', $recorded)`,
    { recorded: BigInt(BASE_MS + 1_000) },
  );
  connection.closeSync();
  instance.closeSync();
};

describe('a database file from an earlier version', () => {
  it('is migrated on open, keeps its tasks, stats and verdicts, and its tasks keep growing', async () => {
    dir = await mkdtemp(join(tmpdir(), 'mcpscope-migrate-'));
    const path = join(dir, 'mcpscope.duckdb');
    await writeVersion2File(path);

    // Stats read from the per-minute tables (exact summaries off), which migration 3 fills from calls.
    const store = await DuckDbStore.open({ path, exactToolStatsLimit: 0 });
    try {
      expect(await store.schemaVersions()).toEqual(MIGRATIONS.map((migration) => migration.version));
      const before = await store.listTasks({ limit: 10 });
      expect(before.tasks).toMatchObject([
        {
          taskId: 'old-task',
          outcome: 'failed',
          toolCalls: 1,
          failedCalls: 1,
          feedback: { verdict: 'incorrect', note: 'wrong region' },
        },
      ]);
      expect(await store.listTools({})).toMatchObject([
        { tool: 'deploy', services: ['agent'], calls: 1, errors: 1, errorsByType: { tool_error: 1 } },
      ]);

      // The agent retries the call after the upgrade: the old task is recomputed from its stored span.
      await store.commit([call('retry', 1_000, false)]);
      const detail = await store.getTask('old-task');
      expect(detail?.task).toMatchObject({ outcome: 'recovered', toolCalls: 2, failedCalls: 1, retries: 1 });
      expect(detail?.calls.map((c) => [c.spanId, c.outcome, c.retryOf])).toEqual([
        [spanId('first'), 'error', null],
        [spanId('retry'), 'success', spanId('first')],
      ]);
      expect(await store.listTools({})).toMatchObject([
        { tool: 'deploy', calls: 2, errors: 1, retries: 1, errorsByType: { tool_error: 1 } },
      ]);
    } finally {
      await store.close();
    }
    // What the migrations moved: per-minute stats from the old calls (and the retry's delta), the
    // span verdict out of `feedback`, the task's earliest root state written by the new rollup.
    const instance = await DuckDBInstance.create(path);
    const connection = await instance.connect();
    const row = async (sql: string) => (await connection.runAndReadAll(sql)).getRowsJS()[0];
    expect(await row('SELECT sum(calls), sum(retries) FROM tool_stats')).toEqual([2n, 1n]);
    expect(await row('SELECT sum(calls) FROM tool_latency')).toEqual([2n]);
    expect(await row('SELECT count(*) FROM span_feedback')).toEqual([1n]);
    expect(await row("SELECT count(*) FROM feedback WHERE source = 'span'")).toEqual([0n]);
    expect(await row("SELECT root_state FROM tasks WHERE task_id = 'old-task'")).toEqual(['none']);
    connection.closeSync();
    instance.closeSync();
  });
});
