import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  attemptGroup,
  bucketStartMs,
  bucketStartMsSql,
  byAttemptOrder,
  CALL_ERROR_TYPE_SQL,
  callErrorType,
  HOUR_NS,
  LAST_ATTEMPT_OF_GROUP_SQL,
  latencyBucket,
  latencyBucketSql,
  MINUTE_NS,
  type CallOutcome,
} from '../../rollup/index.js';

// Each product rule that SQL needs has a TypeScript function and a SQL fragment; both must give the
// same answer, or the API's tool stats and the task rollups disagree.
let instance: DuckDBInstance;
let connection: DuckDBConnection;
beforeAll(async () => {
  instance = await DuckDBInstance.create(':memory:');
  connection = await instance.connect();
});
afterAll(() => {
  connection.closeSync();
  instance.closeSync();
});

const column = async (sql: string): Promise<unknown[]> =>
  (await connection.runAndReadAll(sql)).getRowsJS().map((row) => row[0]);

describe('product rules read the same in SQL and TypeScript', () => {
  it('puts an instant in the same minute and hour', async () => {
    const instants = [0n, 1n, MINUTE_NS - 1n, MINUTE_NS, HOUR_NS - 1n, HOUR_NS, 1_765_000_123_456_789_012n];
    const values = instants.map((ns) => `(${ns})`).join(', ');
    for (const bucket of ['minute', 'hour'] as const) {
      const fromSql = await column(
        `SELECT ${bucketStartMsSql(bucket, 'ns')} FROM (VALUES ${values}) v(ns) ORDER BY ns`,
      );
      expect(fromSql.map((value) => BigInt(value as bigint))).toEqual(
        instants.map((ns) => bucketStartMs(bucket, ns)),
      );
    }
  });

  it('gives a failed call the same error type, and a successful one none', async () => {
    const calls: { outcome: CallOutcome; errorType: string | null }[] = [
      { outcome: 'error', errorType: 'tool_error' },
      { outcome: 'error', errorType: null },
      { outcome: 'success', errorType: null },
      { outcome: 'success', errorType: 'tool_error' },
    ];
    const values = calls
      .map(
        (call, index) =>
          `(${index}, '${call.outcome}', ${call.errorType === null ? 'NULL' : `'${call.errorType}'`})`,
      )
      .join(', ');
    const fromSql = await column(
      `SELECT ${CALL_ERROR_TYPE_SQL} FROM (VALUES ${values}) v(i, outcome, error_type) ORDER BY i`,
    );
    expect(fromSql).toEqual(calls.map(callErrorType));
    expect(fromSql).toEqual(['tool_error', 'error', null, null]);
  });

  it('picks the same last attempt of each group, ties on start time broken by span id', async () => {
    const calls = [
      { service: 'agent', tool: 'deploy', fingerprint: 'f1', startNs: 10n, spanId: 'b1' },
      { service: 'agent', tool: 'deploy', fingerprint: 'f1', startNs: 20n, spanId: 'a-2' },
      { service: 'agent', tool: 'deploy', fingerprint: 'f1', startNs: 20n, spanId: 'a2' },
      { service: 'agent', tool: 'deploy', fingerprint: 'f1', startNs: 20n, spanId: 'B9' },
      { service: 'agent', tool: 'deploy', fingerprint: 'f2', startNs: 5n, spanId: 'c1' },
      { service: 'other', tool: 'deploy', fingerprint: 'f1', startNs: 30n, spanId: 'd1' },
    ];
    const lastInTypeScript = new Map<string, string>();
    for (const call of [...calls].sort(byAttemptOrder)) lastInTypeScript.set(attemptGroup(call), call.spanId);
    const values = calls
      .map(
        (call) =>
          `('task', '${call.service}', '${call.tool}', '${call.fingerprint}', ${call.startNs}, '${call.spanId}')`,
      )
      .join(', ');
    const fromSql = await column(
      `SELECT span_id FROM (VALUES ${values}) v(task_id, service, tool, fingerprint, start_ns, span_id)
       QUALIFY ${LAST_ATTEMPT_OF_GROUP_SQL} ORDER BY span_id`,
    );
    expect(fromSql).toEqual([...lastInTypeScript.values()].sort());
    expect(lastInTypeScript.get(attemptGroup(calls[0] as (typeof calls)[number]))).toBe('a2');
  });

  it('puts a duration in the same latency bucket', async () => {
    const durations = [0, 0.0005, 0.001, 0.0011, 1, 12.5, 999.9, 60_000];
    const values = durations.map((ms, index) => `(${index}, ${ms}::DOUBLE)`).join(', ');
    const fromSql = await column(
      `SELECT ${latencyBucketSql('ms')} FROM (VALUES ${values}) v(i, ms) ORDER BY i`,
    );
    expect(fromSql).toEqual(durations.map(latencyBucket));
  });
});
