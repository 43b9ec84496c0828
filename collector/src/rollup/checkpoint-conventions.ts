/**
 * Attribute names of human checkpoints and tool annotations, as the instrumentation writes them (see
 * `docs/checkpoint-verdicts.md`). The instrumentation's conventions module defines the same strings; this copy
 * lets the collector read them today.
 */
export const ATTR_CHECKPOINT_ID = 'mcpscope.checkpoint.id';
export const ATTR_CHECKPOINT_STEP = 'mcpscope.checkpoint.step';
export const ATTR_CHECKPOINT_KIND = 'mcpscope.checkpoint.kind';
export const ATTR_CHECKPOINT_OUTCOME = 'mcpscope.checkpoint.outcome';
export const ATTR_CHECKPOINT_REVIEWER = 'mcpscope.checkpoint.reviewer';
export const ATTR_CHECKPOINT_REQUESTED_AT = 'mcpscope.checkpoint.requested_at';
export const ATTR_CHECKPOINT_EXPIRES_AT = 'mcpscope.checkpoint.expires_at';
export const ATTR_CHECKPOINT_MODE = 'mcpscope.checkpoint.mode';
export const ATTR_CHECKPOINT_ARGUMENTS_FINGERPRINT = 'mcpscope.checkpoint.arguments_fingerprint';
export const ATTR_CHECKPOINT_STATE_VERSION = 'mcpscope.checkpoint.state_version';
export const ATTR_TOOL_READ_ONLY = 'mcpscope.tool.read_only';
export const ATTR_TOOL_DESTRUCTIVE = 'mcpscope.tool.destructive';
export const ATTR_TOOL_IDEMPOTENT = 'mcpscope.tool.idempotent';

export const CHECKPOINT_STEPS = ['propose', 'decide'] as const;
export type CheckpointStepName = (typeof CHECKPOINT_STEPS)[number];

export const CHECKPOINT_OUTCOMES = ['approved', 'rejected', 'expired', 'cancelled'] as const;
export type CheckpointOutcome = (typeof CHECKPOINT_OUTCOMES)[number];

/** A checkpoint's status: its outcome once decided, `pending` before. */
export const CHECKPOINT_STATUSES = ['pending', ...CHECKPOINT_OUTCOMES] as const;
export type CheckpointStatus = (typeof CHECKPOINT_STATUSES)[number];
