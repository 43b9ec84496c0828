export { DuckDbStore } from './duckdb-store.js';
export type { DuckDbStoreOptions } from './duckdb-store.js';
export { startStoreMaintenance } from './maintenance.js';
export type { StoreMaintenanceOptions } from './maintenance.js';
export { MIGRATIONS } from './migrations.js';
export type * from './types.js';
