import type { DuckDBConnection } from '@duckdb/node-api';
import { msToNs } from '../../rollup/index.js';
import { inTransaction } from './values.js';

const countToolStatRows = async (connection: DuckDBConnection): Promise<number> => {
  const reader = await connection.runAndReadAll(
    'SELECT (SELECT count(*) FROM tool_stats) + (SELECT count(*) FROM tool_latency) AS n',
  );
  return Number(reader.getRowObjectsJS()[0]?.n ?? 0);
};

/** Folds a table's signed rows into one row per key, dropping keys that sum to nothing. */
const fold = async (
  connection: DuckDBConnection,
  table: string,
  keys: string,
  sums: string,
  keep: string,
) => {
  await connection.run(
    `CREATE OR REPLACE TEMP TABLE folded AS SELECT ${keys}, ${sums} FROM ${table} GROUP BY ALL HAVING ${keep}`,
  );
  await connection.run(`DELETE FROM ${table}`);
  await connection.run(`INSERT INTO ${table} BY NAME SELECT * FROM folded`);
  await connection.run('DROP TABLE folded');
};

/**
 * The signed tool-stat rows every rollup appends, counted so a checkpoint can fold them into one row
 * per key once there are more than `compactRows`.
 */
export class ToolStatRows {
  private rows = 0;

  constructor(private readonly compactRows: number) {}

  async load(connection: DuckDBConnection): Promise<void> {
    this.rows = await countToolStatRows(connection);
  }

  added(rows: number): void {
    this.rows += rows;
  }

  async compactIfLarge(connection: DuckDBConnection): Promise<void> {
    if (this.rows <= this.compactRows) return;
    this.rows = await inTransaction(connection, async () => {
      await fold(
        connection,
        'tool_stats',
        'minute_ms, tool, service, error_type',
        'sum(calls) AS calls, sum(retries) AS retries',
        'sum(calls) <> 0 OR sum(retries) <> 0',
      );
      await fold(
        connection,
        'tool_latency',
        'hour_ms, tool, bucket',
        'sum(calls) AS calls',
        'sum(calls) <> 0',
      );
      return countToolStatRows(connection);
    });
  }
}

/** Deletes raw spans that ended before the cutoff, and producer claims made before it; rollups stay. */
export const deleteSpansEndedBefore = async (
  connection: DuckDBConnection,
  cutoffMs: number,
): Promise<number> => {
  const result = await connection.run('DELETE FROM spans WHERE end_ns < $cutoff', {
    cutoff: msToNs(Math.trunc(cutoffMs)),
  });
  await connection.run('DELETE FROM producer_claims WHERE claimed_ms < $cutoff', {
    cutoff: BigInt(Math.trunc(cutoffMs)),
  });
  return result.rowsChanged;
};

/** Writes the WAL into the file, folding the tool stats first when they grew large. */
export const checkpoint = async (connection: DuckDBConnection, toolStats: ToolStatRows): Promise<void> => {
  await toolStats.compactIfLarge(connection);
  await connection.run('CHECKPOINT');
};

/** Deletes verdicts (from the API or from spans) recorded before the cutoff. Returns the number deleted. */
export const deleteFeedbackRecordedBefore = async (
  connection: DuckDBConnection,
  cutoffMs: number,
): Promise<number> => {
  const cutoff = BigInt(Math.trunc(cutoffMs));
  const api = await connection.run('DELETE FROM feedback WHERE recorded_ms < $cutoff', { cutoff });
  const spans = await connection.run('DELETE FROM span_feedback WHERE recorded_ms < $cutoff', { cutoff });
  return api.rowsChanged + spans.rowsChanged;
};
