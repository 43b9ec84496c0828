export { IngestQueue } from './ingest-queue.js';
export type { IngestQueueOptions } from './ingest-queue.js';
export { DEFAULT_WORK_BUDGET_BYTES, WorkBudget } from './work-budget.js';
export type { WorkBudgetOptions, WorkReservation } from './work-budget.js';
