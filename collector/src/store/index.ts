export { DuckDbStore, ROLLUP_ATTEMPTS_BEFORE_SET_ASIDE } from './duckdb-store.js';
export type { DuckDbStoreOptions } from './duckdb-store.js';
export { startStoreMaintenance } from './maintenance.js';
export type { StoreMaintenanceOptions } from './maintenance.js';
export { MIGRATIONS } from './duckdb/migrations.js';
export type { CommitResult, RollupResult, SpanStore } from './ports.js';
