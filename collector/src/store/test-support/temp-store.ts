import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDbStore, type DuckDbStoreOptions } from '../duckdb-store.js';

/** A store on a real DuckDB file in a fresh temporary directory. */
export const openTempStore = async (options: Omit<DuckDbStoreOptions, 'path'> = {}) => {
  const dir = await mkdtemp(join(tmpdir(), 'mcpscope-store-'));
  const path = join(dir, 'mcpscope.duckdb');
  const store = await DuckDbStore.open({ ...options, path });
  return {
    store,
    path,
    dir,
    async cleanup() {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
};
