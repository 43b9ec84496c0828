import type { SpanStore } from './ports.js';

export interface StoreMaintenanceOptions {
  store: SpanStore;
  retentionDays: number;
  /** How often raw spans past retention are deleted. */
  retentionIntervalMs?: number;
  /** How often the WAL is checkpointed (automatic checkpoints are held back; they stall appends). */
  checkpointIntervalMs?: number;
  onError?: (operation: 'retention' | 'checkpoint', error: unknown) => void;
  now?: () => number;
}

const DAY_MS = 86_400_000;

/** Timers for retention and checkpoints; returns a function that stops them. */
export const startStoreMaintenance = ({
  store,
  retentionDays,
  retentionIntervalMs = 3_600_000,
  checkpointIntervalMs = 30_000,
  onError = () => {},
  now = Date.now,
}: StoreMaintenanceOptions): (() => void) => {
  const enforceRetention = () => {
    const cutoff = now() - retentionDays * DAY_MS;
    store.deleteSpansEndedBefore(cutoff).catch((error: unknown) => onError('retention', error));
    // Verdicts are free text people typed: kept no longer than the spans they judged.
    store.deleteFeedbackRecordedBefore(cutoff).catch((error: unknown) => onError('retention', error));
  };
  const checkpoint = () => {
    store.checkpoint().catch((error: unknown) => onError('checkpoint', error));
  };
  const retentionTimer = setInterval(enforceRetention, retentionIntervalMs);
  const checkpointTimer = setInterval(checkpoint, checkpointIntervalMs);
  retentionTimer.unref();
  checkpointTimer.unref();
  enforceRetention();
  return function stopStoreMaintenance() {
    clearInterval(retentionTimer);
    clearInterval(checkpointTimer);
  };
};
