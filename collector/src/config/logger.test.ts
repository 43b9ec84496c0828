import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { errorKind } from './logger.js';

describe('errorKind', () => {
  it("names DuckDB's error class without the message, which quotes the offending value", async () => {
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    const error = await connection
      .run(`SELECT CAST('hunter2-secret' AS INTEGER)`)
      .then(() => undefined)
      .catch((caught: unknown) => caught);
    connection.closeSync();
    instance.closeSync();
    expect(errorKind(error)).toBe('Error (Conversion Error)');
    expect(errorKind(error)).not.toContain('hunter2');
  });

  it('names other errors by their class alone', () => {
    expect(errorKind(new TypeError('token abc is not valid'))).toBe('TypeError');
    expect(errorKind('a string')).toBe('string');
  });
});
