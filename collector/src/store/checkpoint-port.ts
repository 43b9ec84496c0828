import type { CheckpointPage, CheckpointQuery, WritePage, WriteQuery } from '../api/checkpoint-views.js';
import type { CheckpointState, WriteFacts } from '../rollup/checkpoints.js';

/** The store's reads of human checkpoints and writes (part of the `SpanStore` port). */
export interface CheckpointReads {
  listCheckpoints(query: CheckpointQuery): Promise<CheckpointPage>;
  listWrites(query: WriteQuery): Promise<WritePage>;
  /** Every checkpoint still waiting for a decision. */
  pendingCheckpoints(): Promise<CheckpointState[]>;
  /** The states of these checkpoints, and the writes in these traces or claiming these checkpoints. */
  checkpointsAndWrites(
    checkpointIds: readonly string[],
    traceIds: readonly string[],
  ): Promise<{ checkpoints: CheckpointState[]; writes: WriteFacts[] }>;
}
