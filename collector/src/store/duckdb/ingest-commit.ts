import type { DuckDBConnection } from '@duckdb/node-api';
import type { SpanRecord } from '../../model/span.js';
import { spanFacts, spanKey } from '../../rollup/index.js';
import type { CommitResult } from '../ports.js';
import { appendPendingMarks, appendSpanFeedback, appendSpans } from './appenders.js';
import { appendCheckpointSteps } from './checkpoint-steps.js';
import type { PendingLedger } from './pending-ledger.js';
import type { ProducerClaims } from './producer-claims.js';
import { groupByTrace, loadSpanKeys, loadTraces, type KnownIds } from './stored-spans.js';
import { inTransaction } from './values.js';

/**
 * One ingest commit: appends the batch's spans not stored yet (neither in the file nor waiting for
 * a rollup, nor twice in the batch) and marks their traces pending, in one transaction; the ledger
 * learns of them after COMMIT. The exporters are answered after this resolves.
 */
export const commitIngestBatch = async (
  connection: DuckDBConnection,
  { ledger, known, claims }: { ledger: PendingLedger; known: KnownIds; claims: ProducerClaims },
  received: readonly SpanRecord[],
): Promise<CommitResult> => {
  const { spans, newClaims, foreign } = await claims.bind(connection, received);
  const foreignClaims = foreign.traces + foreign.tasks > 0 ? { foreignClaims: foreign } : {};
  // The first of a repeated span id is kept, in a batch as across batches (the stored one wins).
  const unique = new Map<string, SpanRecord>();
  for (const span of spans) {
    const key = spanKey(span.traceId, span.spanId);
    if (!unique.has(key)) unique.set(key, span);
  }
  const unrolled = ledger.unrolledView();
  const batchTraceIds = [...new Set([...unique.values()].map((span) => span.traceId))];
  const storedKeys = await loadSpanKeys(
    connection,
    await loadTraces(connection, known, 'trace_id', batchTraceIds),
  );
  const stored = [...unique.values()].filter(
    (span) => !unrolled(span.traceId, span.spanId) && !storedKeys.has(spanKey(span.traceId, span.spanId)),
  );
  const duplicates = spans.length - stored.length;
  if (stored.length === 0) {
    if (newClaims.length > 0) {
      await claims.record(connection, newClaims);
      claims.committed(newClaims);
    }
    return { stored, facts: [], duplicates, ...foreignClaims };
  }

  const newFacts = stored.map(spanFacts);
  const factsByTrace = groupByTrace(newFacts);
  const seq = ledger.nextCommitSeq();
  await inTransaction(connection, async () => {
    await appendSpans(connection, stored, newFacts);
    await appendPendingMarks(connection, factsByTrace, seq);
    await appendSpanFeedback(connection, newFacts);
    await claims.record(connection, newClaims);
    await appendCheckpointSteps(connection, stored, newFacts);
  });
  ledger.committed(factsByTrace, seq);
  claims.committed(newClaims);
  return { stored, facts: newFacts, duplicates, ...foreignClaims };
};
