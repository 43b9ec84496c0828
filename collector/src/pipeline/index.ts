export { IngestQueue } from './ingest-queue.js';
export type { IngestQueueOptions } from './ingest-queue.js';
