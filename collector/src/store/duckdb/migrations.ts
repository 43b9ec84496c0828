import type { DuckDBConnection } from '@duckdb/node-api';
import { latencyBucketSql } from '../../rollup/latency-histogram.js';
import { inTransaction } from './values.js';

export interface Migration {
  readonly version: number;
  readonly description: string;
  readonly statements: readonly string[];
}

/**
 * Append-only: a released migration is never edited, a change is a new version. So its SQL keeps the
 * literals it shipped with (the minute and hour buckets, the failed call's error type) rather than
 * reading today's rules: a rule that changes gets a new migration that recomputes what it affects.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'raw spans, traces, tasks, tool calls, feedback',
    statements: [
      // No unique index on spans: it makes appends several times slower; duplicates are filtered
      // against stored ids before appending.
      `CREATE TABLE spans (
        trace_id VARCHAR NOT NULL, span_id VARCHAR NOT NULL, parent_span_id VARCHAR, name VARCHAR NOT NULL,
        kind VARCHAR NOT NULL, start_ns BIGINT NOT NULL, end_ns BIGINT NOT NULL, status_code VARCHAR NOT NULL,
        status_message VARCHAR NOT NULL, service_name VARCHAR NOT NULL, scope_name VARCHAR NOT NULL,
        attributes VARCHAR NOT NULL, resource VARCHAR NOT NULL, events VARCHAR NOT NULL, links VARCHAR NOT NULL,
        task_id VARCHAR, method VARCHAR, tool VARCHAR, fingerprint VARCHAR, error_type VARCHAR, arguments VARCHAR,
        input_tokens BIGINT, output_tokens BIGINT, auth_outcome VARCHAR, auth_reason VARCHAR, auth_side VARCHAR,
        feedback_verdict VARCHAR, feedback_note VARCHAR, ingested_ms BIGINT NOT NULL
      )`,
      `CREATE TABLE traces (
        trace_id VARCHAR NOT NULL, task_id VARCHAR NOT NULL, min_start_ns BIGINT NOT NULL, max_end_ns BIGINT NOT NULL
      )`,
      `CREATE TABLE tasks (
        task_id VARCHAR NOT NULL, trace_ids VARCHAR[] NOT NULL, outcome VARCHAR NOT NULL, start_ns BIGINT NOT NULL,
        end_ns BIGINT NOT NULL, duration_ms DOUBLE NOT NULL, services VARCHAR[] NOT NULL, tools VARCHAR[] NOT NULL,
        tool_calls INTEGER NOT NULL, failed_calls INTEGER NOT NULL, retries INTEGER NOT NULL,
        input_tokens BIGINT NOT NULL, output_tokens BIGINT NOT NULL, auth_failures INTEGER NOT NULL,
        updated_ms BIGINT NOT NULL
      )`,
      `CREATE TABLE calls (
        task_id VARCHAR NOT NULL, trace_id VARCHAR NOT NULL, span_id VARCHAR NOT NULL, service VARCHAR NOT NULL,
        method VARCHAR NOT NULL, tool VARCHAR NOT NULL, outcome VARCHAR NOT NULL, error_type VARCHAR,
        duration_ms DOUBLE NOT NULL, arguments VARCHAR, fingerprint VARCHAR, retry_of VARCHAR, start_ns BIGINT NOT NULL
      )`,
      `CREATE TABLE feedback (
        task_id VARCHAR NOT NULL, verdict VARCHAR NOT NULL, note VARCHAR, source VARCHAR NOT NULL,
        recorded_ms BIGINT NOT NULL
      )`,
    ],
  },
  {
    version: 2,
    description: 'spans stored per trace, so rollups never recompute a task from spans retention deleted',
    statements: ['ALTER TABLE traces ADD COLUMN span_count BIGINT DEFAULT 0'],
  },
  {
    version: 3,
    description:
      'acknowledge after the append, roll up later; per-minute tool stats; feedback spans by trace',
    statements: [
      // Traces with spans appended and not yet rolled up: an ingest commit adds rows (numbered by
      // commit), the rollup that takes them deletes them in its own transaction, so a crash between
      // the two loses nothing.
      'CREATE TABLE rollup_pending (trace_id VARCHAR NOT NULL, spans BIGINT NOT NULL, seq BIGINT NOT NULL)',
      // Verdicts sent as span attributes, kept by trace: the trace's task is resolved when read.
      `CREATE TABLE span_feedback (
        trace_id VARCHAR NOT NULL, verdict VARCHAR NOT NULL, note VARCHAR, recorded_ms BIGINT NOT NULL
      )`,
      `INSERT INTO span_feedback
         SELECT tr.trace_id, f.verdict, f.note, f.recorded_ms FROM feedback f JOIN traces tr USING (task_id)
         WHERE f.source = 'span' QUALIFY row_number() OVER (PARTITION BY f.task_id, f.recorded_ms, f.verdict) = 1`,
      "DELETE FROM feedback WHERE source = 'span'",
      // Signed counts per minute, tool, service and error type, and latency histograms per hour and
      // tool: every rollup appends what it added and subtracted, compaction folds the rows, and any
      // range sums them (percentiles at hour resolution).
      `CREATE TABLE tool_stats (
        minute_ms BIGINT NOT NULL, tool VARCHAR NOT NULL, service VARCHAR NOT NULL, error_type VARCHAR,
        calls BIGINT NOT NULL, retries BIGINT NOT NULL
      )`,
      `CREATE TABLE tool_latency (
        hour_ms BIGINT NOT NULL, tool VARCHAR NOT NULL, bucket INTEGER NOT NULL, calls BIGINT NOT NULL
      )`,
      `INSERT INTO tool_stats
         SELECT (start_ns // 60000000000) * 60000, tool, service,
           CASE WHEN outcome = 'error' THEN coalesce(error_type, 'error') END, count(*), count(retry_of)
         FROM calls GROUP BY ALL`,
      `INSERT INTO tool_latency
         SELECT (start_ns // 3600000000000) * 3600000, tool, ${latencyBucketSql('duration_ms')}, count(*)
         FROM calls GROUP BY ALL`,
    ],
  },
  {
    version: 4,
    description: 'index traces by trace id',
    statements: [
      // Every commit that meets a known trace, and every rollup, looks traces up by id: without an
      // index that is a scan of a table that grows by every trace (a 10-minute soak saw commits slow
      // from 15 to 23 ms).
      'CREATE INDEX traces_trace_id ON traces (trace_id)',
    ],
  },
  {
    version: 5,
    description: "a task's earliest root span, so a growing task can be extended without reading it back",
    statements: [
      // 'none', 'ok' or 'failed'; NULL for rows written before: such a task is recomputed once.
      'ALTER TABLE tasks ADD COLUMN root_state VARCHAR',
    ],
  },
  {
    version: 6,
    description: 'input_required rounds and MCP tasks (protocol 2026-07-28) on spans and calls',
    statements: [
      // JSON of what a span says of rounds and tasks; NULL for spans that say nothing (most).
      'ALTER TABLE spans ADD COLUMN call_detail VARCHAR',
      'ALTER TABLE calls ADD COLUMN detail VARCHAR',
    ],
  },
  {
    version: 7,
    description: 'which producer identity first sent each trace id and task id (task ownership)',
    statements: [
      // claim: 'trace:<id>' or 'task:<id>'; claimed_ms: arrival time, for retention.
      'CREATE TABLE producer_claims (claim VARCHAR NOT NULL, producer VARCHAR NOT NULL, claimed_ms BIGINT NOT NULL)',
    ],
  },
  {
    version: 9,
    description: 'human checkpoints and writes: one row per proposal, decision and annotated tool call',
    statements: [
      // Kept past raw-span retention, like the rollups; verdicts are computed from all rows of a
      // checkpoint when read, so the order the steps arrived in never matters.
      `CREATE TABLE checkpoint_steps (
        trace_id VARCHAR NOT NULL, span_id VARCHAR NOT NULL, parent_span_id VARCHAR, step VARCHAR NOT NULL,
        checkpoint_id VARCHAR, kind VARCHAR, tool VARCHAR, service VARCHAR NOT NULL, span_kind VARCHAR NOT NULL,
        start_ns BIGINT NOT NULL, end_ns BIGINT NOT NULL, outcome VARCHAR, reviewer VARCHAR,
        requested_at_ms BIGINT, expires_at_ms BIGINT, mode VARCHAR, arguments_fingerprint VARCHAR,
        state_version VARCHAR, read_only BOOLEAN, destructive BOOLEAN, idempotent BOOLEAN, error_type VARCHAR,
        ingested_ms BIGINT NOT NULL
      )`,
    ],
  },
  {
    version: 11,
    description: 'what a span says of its task when it names none (rollup/task-grouping.ts)',
    statements: [
      // NULL for spans stored before: their traces stay tasks of their own, as they were.
      'ALTER TABLE spans ADD COLUMN task_hint VARCHAR',
    ],
  },
];

/** Applies the migrations the file has not seen yet, each in its own transaction. */
export const migrate = async (connection: DuckDBConnection): Promise<number[]> => {
  await connection.run(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER NOT NULL, description VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)',
  );
  const reader = await connection.runAndReadAll('SELECT version FROM schema_migrations');
  const applied = new Set(reader.getRowObjectsJS().map((row) => Number(row.version)));
  const newlyApplied: number[] = [];
  for (const migration of MIGRATIONS) {
    if (applied.has(migration.version)) continue;
    await inTransaction(connection, async () => {
      for (const statement of migration.statements) await connection.run(statement);
      await connection.run('INSERT INTO schema_migrations VALUES ($version, $description, now())', {
        version: migration.version,
        description: migration.description,
      });
    });
    newlyApplied.push(migration.version);
  }
  return newlyApplied;
};
