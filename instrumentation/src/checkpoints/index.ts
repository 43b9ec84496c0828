export {
  checkpoint,
  decideCheckpoint,
  outcomeOfAnswer,
  proposeCheckpoint,
  recordExecution,
  recordStateVersion,
  withCheckpoint,
  type CheckpointAction,
  type CheckpointDecision,
  type CheckpointOptions,
  type CheckpointTicket,
} from './api.js';
export type { ToolAnnotationHints } from './tool-annotations.js';
