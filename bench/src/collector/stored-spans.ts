/**
 * Collector databases holding 1 M and 10 M task-shaped spans, for query latency.
 *
 * Through the real ingest path or the store's `commit` alone, 10 M spans take far longer than the
 * benchmark's 15 minutes on this machine (see the ingest figures). So a seed of spans is committed
 * through the collector's store API (`DuckDbStore.commit`: real rows, real rollups), and then copied
 * in SQL with fresh ids (trace, span, parent, task) and shifted times, table by table (every
 * table the seed holds, whatever the migrations made) into a file created by the store's own
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
const GENERATOR_VERSION = 3;
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

const ID_COLUMNS = new Set(['trace_id', 'span_id', 'parent_span_id', 'retry_of']);
const TIME_NS_COLUMNS = new Set(['start_ns', 'end_ns', 'min_start_ns', 'max_end_ns']);
const TIME_MS_COLUMNS = new Set(['ingested_ms', 'updated_ms', 'minute_ms', 'recorded_ms']);
const NOT_COPIED = new Set(['schema_migrations', 'feedback']);

/** How a column of a copy differs from the seed's: fresh ids, its task's new id, shifted times. */
const rewriteOf = (column: string): string | undefined => {
  if (ID_COLUMNS.has(column)) return idExpression(`seed_row.${column}`);
  if (column === 'task_id') return taskExpression('seed_row.task_id');
  if (column === 'trace_ids')
    return "list_transform(seed_row.trace_ids, id -> printf('%04x', copy.i) || substr(id, 5))";
  if (TIME_NS_COLUMNS.has(column)) return `seed_row.${column} - ${shiftNs}`;
  if (TIME_MS_COLUMNS.has(column)) return `seed_row.${column} - ${shiftMs}`;
  return undefined;
};

/**
 * Copies `[fromCopy, toCopy)` of every seed table's rows into the open database, with fresh ids and
 * shifted times. Tables and columns are read from the seed, so the copy follows the store's schema
 * as its migrations change it.
 */
const insertCopies = async (
  connection: DuckDBConnection,
  fromCopy: number,
  toCopy: number,
): Promise<void> => {
  const copies = `(SELECT range AS i FROM range(${fromCopy}, ${toCopy})) AS copy`;
  const columns = (
    await connection.runAndReadAll(
      "SELECT table_name, column_name FROM duckdb_columns() WHERE database_name = 'seed' ORDER BY table_name, column_index",
    )
  ).getRowObjectsJS();
  const tables = new Map<string, string[]>();
  for (const row of columns) {
    const table = String(row.table_name);
    if (NOT_COPIED.has(table)) continue;
    tables.set(table, [...(tables.get(table) ?? []), String(row.column_name)]);
  }
  await connection.run('BEGIN TRANSACTION');
  for (const [table, names] of tables) {
    const replaced = names
      .map((name) => [name, rewriteOf(name)] as const)
      .filter((entry): entry is readonly [string, string] => entry[1] !== undefined)
      .map(([name, expression]) => `${expression} AS ${name}`);
    const select = replaced.length ? `seed_row.* REPLACE (${replaced.join(', ')})` : 'seed_row.*';
    await connection.run(
      `INSERT INTO main.${table} BY NAME SELECT ${select} FROM seed.${table} AS seed_row, ${copies}`,
    );
  }
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
