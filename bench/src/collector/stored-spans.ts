/**
 * Collector databases holding 1 M and 10 M task-shaped spans, for query latency.
 *
 * Through the real ingest path or the store's `commit` alone, 10 M spans take far longer than the
 * benchmark's 15 minutes on this machine (see the ingest figures). So a seed of spans is committed
 * through the collector's store API (`DuckDbStore.commit`: real rows, real rollups), and then copied
 * in SQL with fresh ids (trace, span, parent, task) and shifted times, table by table — spans,
 * traces, tasks, calls and per-minute tool stats alike — into a file created by the store's own
 * migrations. The files are cached under bench/.cache and rebuilt when the schema or this
 * generator changes. RESULTS.md says how the spans were loaded.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { DuckDbStore, MIGRATIONS } from '../../../collector/src/store/index.js';
import { benchCache } from '../support/paths.js';
import { SPANS_PER_TASK, tasksBetween } from './task-workload.js';

/** Bump when the generated data changes shape. */
const GENERATOR_VERSION = 2;
const SCHEMA_VERSION = Math.max(...MIGRATIONS.map((migration) => migration.version));
/** Each copy of the seed is shifted this much further into the past. */
const COPY_SHIFT_MS = 30 * 60_000;
const SEED_WINDOW_MS = 60 * 60_000;

export interface StoredSpansFile {
  path: string;
  spans: number;
  tasks: number;
  /** Task ids sampled across the whole time range, for `/api/tasks/:id`. */
  sampleTaskIds: string[];
  /** Tool names present, for filters. */
  buildSeconds: number;
  method: string;
  reused: boolean;
}

interface Manifest {
  schemaVersion: number;
  generatorVersion: number;
  seedSpans: number;
  spans: number;
  tasks: number;
  sampleTaskIds: string[];
  buildSeconds: number;
}

const storesDir = join(benchCache, 'stores');
const manifestPath = (path: string) => `${path}.manifest.json`;

const readManifest = (path: string, seedSpans: number): Manifest | undefined => {
  try {
    const manifest = JSON.parse(readFileSync(manifestPath(path), 'utf8')) as Manifest;
    const current =
      manifest.schemaVersion === SCHEMA_VERSION &&
      manifest.generatorVersion === GENERATOR_VERSION &&
      manifest.seedSpans === seedSpans &&
      existsSync(path);
    return current ? manifest : undefined;
  } catch {
    return undefined;
  }
};

const removeDatabase = (path: string) => {
  for (const suffix of ['', '.wal', '.manifest.json']) rmSync(`${path}${suffix}`, { force: true });
};

/** The seed: `seedSpans` spans committed through the store API, in batches of 2,000 as the ingest queue does. */
const buildSeed = async (path: string, seedSpans: number, log: (line: string) => void): Promise<void> => {
  removeDatabase(path);
  const store = await DuckDbStore.open({ path });
  const tasks = Math.ceil(seedSpans / SPANS_PER_TASK);
  const newest = Date.now();
  const batchTasks = 200;
  try {
    for (let first = 0; first < tasks; first += batchTasks) {
      const count = Math.min(batchTasks, tasks - first);
      const from = newest - SEED_WINDOW_MS + (first / tasks) * SEED_WINDOW_MS;
      const to = newest - SEED_WINDOW_MS + ((first + count) / tasks) * SEED_WINDOW_MS;
      await store.commit(tasksBetween(count, from, to, first + 1));
      if (first % 10_000 === 0) log(`    seed: ${first * SPANS_PER_TASK} spans committed`);
    }
  } finally {
    await store.close();
  }
};

const idExpression = (column: string) =>
  `CASE WHEN ${column} IS NULL THEN NULL ELSE printf('%04x', copy.i) || substr(${column}, 5) END`;
const taskExpression = (column: string) => `${column} || '-' || copy.i`;
const shiftNs = `copy.i * ${COPY_SHIFT_MS}::BIGINT * 1000000`;
const shiftMs = `copy.i * ${COPY_SHIFT_MS}::BIGINT`;

/** Copies `[fromCopy, toCopy)` of the seed's rows into the open database, with fresh ids and shifted times. */
const insertCopies = async (
  connection: DuckDBConnection,
  fromCopy: number,
  toCopy: number,
): Promise<void> => {
  const copies = `(SELECT range AS i FROM range(${fromCopy}, ${toCopy})) AS copy`;
  await connection.run('BEGIN TRANSACTION');
  await connection.run(`INSERT INTO spans SELECT
      ${idExpression('s.trace_id')}, ${idExpression('s.span_id')}, ${idExpression('s.parent_span_id')}, s.name, s.kind,
      s.start_ns - ${shiftNs}, s.end_ns - ${shiftNs}, s.status_code, s.status_message, s.service_name, s.scope_name,
      s.attributes, s.resource, s.events, s.links, ${taskExpression('s.task_id')}, s.method, s.tool, s.fingerprint,
      s.error_type, s.arguments, s.input_tokens, s.output_tokens, s.auth_outcome, s.auth_reason, s.auth_side,
      s.feedback_verdict, s.feedback_note, s.ingested_ms - ${shiftMs}
    FROM seed.spans AS s, ${copies}`);
  await connection.run(`INSERT INTO traces SELECT
      ${idExpression('t.trace_id')}, ${taskExpression('t.task_id')}, t.min_start_ns - ${shiftNs}, t.max_end_ns - ${shiftNs}
    FROM seed.traces AS t, ${copies}`);
  await connection.run(`INSERT INTO tasks SELECT
      ${taskExpression('t.task_id')}, list_transform(t.trace_ids, id -> printf('%04x', copy.i) || substr(id, 5)),
      t.outcome, t.start_ns - ${shiftNs}, t.end_ns - ${shiftNs}, t.duration_ms, t.services, t.tools, t.tool_calls,
      t.failed_calls, t.retries, t.input_tokens, t.output_tokens, t.auth_failures, t.updated_ms - ${shiftMs}
    FROM seed.tasks AS t, ${copies}`);
  await connection.run(`INSERT INTO calls SELECT
      ${taskExpression('c.task_id')}, ${idExpression('c.trace_id')}, ${idExpression('c.span_id')}, c.service, c.method,
      c.tool, c.outcome, c.error_type, c.duration_ms, c.arguments, c.fingerprint, ${idExpression('c.retry_of')},
      c.start_ns - ${shiftNs}
    FROM seed.calls AS c, ${copies}`);
  await connection.run(`INSERT INTO tool_minutes SELECT
      m.tool, m.minute_ms - ${shiftMs}, m.calls, m.errors, m.errors_by_type, m.retries, m.p50_ms, m.p95_ms, m.p99_ms
    FROM seed.tool_minutes AS m, ${copies}`);
  await connection.run('COMMIT');
};

const countOf = async (connection: DuckDBConnection, table: string): Promise<number> =>
  Number((await connection.runAndReadAll(`SELECT count(*) AS n FROM ${table}`)).getRowObjectsJS()[0]?.n ?? 0);

/**
 * A database with `targetSpans` spans (a multiple of `seedSpans`), built from the cached seed and,
 * when given, a smaller cached database to start from.
 */
export const ensureStoredSpans = async (
  targetSpans: number,
  seedSpans: number,
  log: (line: string) => void,
  startFrom?: StoredSpansFile,
): Promise<StoredSpansFile> => {
  mkdirSync(storesDir, { recursive: true });
  const path = join(storesDir, `spans-${targetSpans}.duckdb`);
  const method = `${seedSpans.toLocaleString('en-US')} spans committed through the store API (\`DuckDbStore.commit\`), then copied in SQL with fresh ids and shifted times`;
  const existing = readManifest(path, seedSpans);
  if (existing && existing.spans >= targetSpans) {
    return { path, ...existing, method, reused: true };
  }
  const started = performance.now();
  const seedPath = join(storesDir, `seed-${seedSpans}.duckdb`);
  if (!readManifest(seedPath, seedSpans)) {
    log(`    building the seed (${seedSpans} spans through the store API)…`);
    const seedStarted = performance.now();
    await buildSeed(seedPath, seedSpans, log);
    const manifest: Manifest = {
      schemaVersion: SCHEMA_VERSION,
      generatorVersion: GENERATOR_VERSION,
      seedSpans,
      spans: seedSpans,
      tasks: seedSpans / SPANS_PER_TASK,
      sampleTaskIds: [],
      buildSeconds: (performance.now() - seedStarted) / 1000,
    };
    writeFileSync(manifestPath(seedPath), JSON.stringify(manifest));
  }

  removeDatabase(path);
  let fromCopy = 0;
  if (startFrom && startFrom.spans % seedSpans === 0 && startFrom.spans < targetSpans) {
    copyFileSync(startFrom.path, path);
    fromCopy = startFrom.spans / seedSpans;
  } else {
    // An empty database with the collector's schema, made by the store's own migrations.
    await (await DuckDbStore.open({ path })).close();
  }
  const copies = Math.ceil(targetSpans / seedSpans);
  log(`    copying the seed ${copies - fromCopy} times into ${path}…`);
  const instance = await DuckDBInstance.create(path, { threads: '2', memory_limit: '2GB' });
  const connection = await instance.connect();
  try {
    await connection.run(`ATTACH '${seedPath.replace(/'/g, "''")}' AS seed (READ_ONLY)`);
    const step = 20;
    for (let copy = fromCopy; copy < copies; copy += step) {
      await insertCopies(connection, copy, Math.min(copies, copy + step));
      log(`    ${Math.min(copies, copy + step) * seedSpans} spans`);
    }
    await connection.run('DETACH seed');
    await connection.run('CHECKPOINT');
    const sample = await connection.runAndReadAll(
      'SELECT task_id FROM tasks USING SAMPLE reservoir(40 ROWS) REPEATABLE (7)',
    );
    const manifest: Manifest = {
      schemaVersion: SCHEMA_VERSION,
      generatorVersion: GENERATOR_VERSION,
      seedSpans,
      spans: await countOf(connection, 'spans'),
      tasks: await countOf(connection, 'tasks'),
      sampleTaskIds: sample.getRowObjectsJS().map((row) => String(row.task_id)),
      buildSeconds: (performance.now() - started) / 1000,
    };
    writeFileSync(manifestPath(path), JSON.stringify(manifest));
    return { path, ...manifest, method, reused: false };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
};
