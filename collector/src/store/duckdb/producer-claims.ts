import { createHash } from 'node:crypto';
import type { DuckDBConnection } from '@duckdb/node-api';
import { ATTR_MCPSCOPE_TASK_ID } from '@mcpscope/instrumentation/conventions';
import type { SpanRecord } from '../../model/span.js';
import type { ForeignClaims } from '../ports.js';
import { IdFilter } from './id-filter.js';
import { idsParameter, str } from './values.js';

/** Rounds of qualification before giving up on an id someone else holds at every level (never in practice). */
const MAX_QUALIFICATIONS = 4;
/** Claims remembered in memory: a trace's later batches (its other spans) then cost no query. */
const RECENT_CLAIMS = 50_000;

const traceClaim = (traceId: string) => `trace:${traceId}`;
const taskClaim = (taskId: string) => `task:${taskId}`;

/** A trace id of the same form (32 hex), owned by the producer: a hash of the claimed id and the producer. */
export const qualifiedTraceId = (traceId: string, producer: string): string =>
  createHash('sha256').update(`${producer}\u0000${traceId}`).digest('hex').slice(0, 32);

/** A task id kept apart from the one claimed first, readable as whose it is. */
export const qualifiedTaskId = (taskId: string, producer: string): string => `${taskId}@${producer}`;

export interface BoundBatch {
  spans: SpanRecord[];
  /** Claims first made by this batch, to record in its transaction. */
  newClaims: { claim: string; producer: string }[];
  foreign: ForeignClaims;
}

/**
 * Which producer identity first sent each trace id and task id. A span naming an id another identity
 * holds is moved to an id of its own (see SECURITY.md, task ownership): it can never change the first
 * producer's task. Spans without a producer (written by the collector itself) are left as they are.
 */
export class ProducerClaims {
  private readonly recorded = new IdFilter();
  /** Owners of recently seen claims, oldest first. */
  private readonly recent = new Map<string, string>();

  async load(connection: DuckDBConnection): Promise<void> {
    const claims = await connection.stream('SELECT claim FROM producer_claims');
    for (
      let chunk = await claims.fetchChunk();
      chunk !== null && chunk.rowCount > 0;
      chunk = await claims.fetchChunk()
    ) {
      chunk.visitColumnValues(0, (claim) => this.recorded.add(String(claim)));
    }
  }

  /** Binds every span of the batch to its producer's ids, in order: within a batch, the first span wins too. */
  async bind(connection: DuckDBConnection, spans: readonly SpanRecord[]): Promise<BoundBatch> {
    const owners = await this.storedOwners(connection, spans);
    const newClaims: BoundBatch['newClaims'] = [];
    const foreign: ForeignClaims = { traces: 0, tasks: 0 };
    /** The id to use for `producer`: the one asked for, or its qualification when another holds it. */
    const own = (
      claimOf: (id: string) => string,
      qualify: (id: string, producer: string) => string,
      id: string,
      producer: string,
    ): string => {
      let current = id;
      for (let round = 0; round < MAX_QUALIFICATIONS; round++) {
        const claim = claimOf(current);
        const owner = owners.get(claim);
        if (owner === producer) return current;
        if (owner === undefined) {
          owners.set(claim, producer);
          newClaims.push({ claim, producer });
          return current;
        }
        current = qualify(current, producer);
      }
      return current;
    };
    const bound = spans.map((span) => {
      const producer = span.producer;
      if (producer === undefined) return span;
      const traceId = own(traceClaim, qualifiedTraceId, span.traceId, producer);
      const taskId = span.attributes[ATTR_MCPSCOPE_TASK_ID];
      const ownTaskId =
        typeof taskId === 'string' ? own(taskClaim, qualifiedTaskId, taskId, producer) : undefined;
      if (traceId === span.traceId && ownTaskId === taskId) return span;
      if (traceId !== span.traceId) foreign.traces += 1;
      if (ownTaskId !== taskId) foreign.tasks += 1;
      return {
        ...span,
        traceId,
        attributes:
          ownTaskId === taskId
            ? span.attributes
            : { ...span.attributes, [ATTR_MCPSCOPE_TASK_ID]: ownTaskId! },
      };
    });
    return { spans: bound, newClaims, foreign };
  }

  /** Appends the batch's first claims; call inside the batch's transaction, then {@link committed}. */
  async record(connection: DuckDBConnection, newClaims: BoundBatch['newClaims']): Promise<void> {
    if (newClaims.length === 0) return;
    const appender = await connection.createAppender('producer_claims');
    const now = BigInt(Date.now());
    for (const { claim, producer } of newClaims) {
      appender.appendVarchar(claim);
      appender.appendVarchar(producer);
      appender.appendBigInt(now);
      appender.endRow();
    }
    appender.flushSync();
    appender.closeSync();
  }

  /** Learns the claims {@link record} appended, once their transaction committed. */
  committed(newClaims: BoundBatch['newClaims']): void {
    for (const { claim, producer } of newClaims) {
      this.recorded.add(claim);
      this.remember(claim, producer);
    }
  }

  /** After retention deleted claims: what memory holds may be gone from the file. */
  forgetRecent(): void {
    this.recent.clear();
  }

  private remember(claim: string, producer: string): void {
    if (this.recent.size >= RECENT_CLAIMS) {
      const oldest = this.recent.keys().next().value;
      if (oldest !== undefined) this.recent.delete(oldest);
    }
    this.recent.set(claim, producer);
  }

  /**
   * Owners already in the file of the ids the batch names, and of their qualification for the
   * span's producer (where a foreign span goes); the filter spares the query for ids never claimed.
   */
  private async storedOwners(
    connection: DuckDBConnection,
    spans: readonly SpanRecord[],
  ): Promise<Map<string, string>> {
    const owners = new Map<string, string>();
    const wanted = new Set<string>();
    const want = (claim: string) => {
      const known = this.recent.get(claim);
      if (known !== undefined) owners.set(claim, known);
      else if (this.recorded.mayHave(claim)) wanted.add(claim);
    };
    for (const span of spans) {
      const producer = span.producer;
      if (producer === undefined) continue;
      want(traceClaim(span.traceId));
      want(traceClaim(qualifiedTraceId(span.traceId, producer)));
      const taskId = span.attributes[ATTR_MCPSCOPE_TASK_ID];
      if (typeof taskId !== 'string') continue;
      want(taskClaim(taskId));
      want(taskClaim(qualifiedTaskId(taskId, producer)));
    }
    if (wanted.size === 0) return owners;
    const { values, types } = idsParameter([...wanted]);
    // The earliest claim wins should one id have been claimed twice (deeper qualifications are not looked up).
    const reader = await connection.runAndReadAll(
      'SELECT claim, arg_min(producer, claimed_ms) AS producer FROM producer_claims ' +
        'WHERE claim IN (SELECT unnest($ids)) GROUP BY claim',
      values,
      types,
    );
    for (const row of reader.getRowObjectsJS()) {
      owners.set(str(row.claim), str(row.producer));
      this.remember(str(row.claim), str(row.producer));
    }
    return owners;
  }
}
