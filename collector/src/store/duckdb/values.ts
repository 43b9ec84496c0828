import { LIST, VARCHAR, listValue } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';

/** A result row as `getRowObjectsJS` returns it. */
export type Row = Record<string, unknown>;

export const str = (value: unknown): string => String(value);
export const nullableStr = (value: unknown): string | null =>
  value === null || value === undefined ? null : String(value);
export const big = (value: unknown): bigint => (typeof value === 'bigint' ? value : BigInt(String(value)));
export const strings = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : []);

/** A list of ids bound as one `VARCHAR[]` parameter, read with `IN (SELECT unnest($ids))`. */
export const varcharList = (values: readonly string[]) => listValue([...values]);
export const VARCHAR_LIST = LIST(VARCHAR);
export const idsParameter = (ids: readonly string[]) => ({
  values: { ids: varcharList(ids) },
  types: { ids: VARCHAR_LIST },
});

/** The largest BIGINT: an open end of a time range. */
export const MAX_NS = 9_223_372_036_854_775_807n;

/** Runs `work` in one transaction on the connection: committed when it resolves, rolled back when it throws. */
export const inTransaction = async <T>(connection: DuckDBConnection, work: () => Promise<T>): Promise<T> => {
  await connection.run('BEGIN TRANSACTION');
  try {
    const result = await work();
    await connection.run('COMMIT');
    return result;
  } catch (error) {
    await connection.run('ROLLBACK').catch(() => undefined);
    throw error;
  }
};

/** Reporting (logs, metrics) cannot change what happened. */
export const report = (tell: () => void): void => {
  try {
    tell();
  } catch {
    // nothing to do
  }
};
