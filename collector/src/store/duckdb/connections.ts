import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';
import { SerialQueue } from '../serial-queue.js';
import { migrate } from './migrations.js';

export interface ConnectionSettings {
  /** Database file; `:memory:` for a throwaway store. */
  path: string;
  threads: number;
  memoryLimit: string;
  /** WAL size that triggers an automatic checkpoint; raised so checkpoints run on our timer instead. */
  checkpointThreshold: string;
}

export type ConnectionOperation<T> = (connection: DuckDBConnection) => Promise<T>;

/**
 * The database file and its three connections, each used by one operation at a time (concurrent
 * calls on one connection have crashed the process): ingest commits, retention, feedback and
 * checkpoints write on one; rollups run on their own beside them (MVCC keeps the two apart); reads
 * on the third.
 */
export class StoreConnections {
  private readonly writer = new SerialQueue();
  private readonly roller = new SerialQueue();
  private readonly reader = new SerialQueue();
  private open = true;

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly writeConnection: DuckDBConnection,
    private readonly rollupConnection: DuckDBConnection,
    private readonly readConnection: DuckDBConnection,
  ) {}

  /** Opens (or creates) the file and brings its schema up to date. */
  static async open({ path, threads, memoryLimit, checkpointThreshold }: ConnectionSettings) {
    if (path !== ':memory:') await mkdir(dirname(path), { recursive: true });
    const instance = await DuckDBInstance.create(path, {
      threads: String(threads),
      memory_limit: memoryLimit,
      checkpoint_threshold: checkpointThreshold,
      // Appends arrive in time order already; keeping insertion order costs memory for nothing.
      preserve_insertion_order: 'false',
      // Hand freed memory back to the system soon: by default the allocator keeps up to 512 MiB
      // cached after large frees, which reads as resident memory the collector does not use.
      allocator_flush_threshold: '16MB',
      allocator_bulk_deallocation_flush_threshold: '32MB',
    });
    const writeConnection = await instance.connect();
    await migrate(writeConnection);
    const rollupConnection = await instance.connect();
    const readConnection = await instance.connect();
    return new StoreConnections(instance, writeConnection, rollupConnection, readConnection);
  }

  get isOpen(): boolean {
    return this.open;
  }

  /** Work at start-up, before anything else runs on the write connection. */
  starting<T>(operation: ConnectionOperation<T>): Promise<T> {
    return operation(this.writeConnection);
  }

  write<T>(operation: ConnectionOperation<T>): Promise<T> {
    if (!this.open) return Promise.reject(new Error('store is closed'));
    return this.writer.run(() => operation(this.writeConnection));
  }

  read<T>(operation: ConnectionOperation<T>): Promise<T> {
    if (!this.open) return Promise.reject(new Error('store is closed'));
    return this.reader.run(() => operation(this.readConnection));
  }

  rollUp<T>(operation: ConnectionOperation<T>): Promise<T> {
    return this.roller.run(() => operation(this.rollupConnection));
  }

  /** A write that must not run beside a rollup (a checkpoint refuses to run beside another write transaction). */
  betweenRollups<T>(operation: ConnectionOperation<T>): Promise<T> {
    return this.roller.run(() => this.write(operation));
  }

  /** Refuses new work, waits for what runs, checkpoints and closes the file. */
  async close(): Promise<void> {
    if (!this.open) return;
    this.open = false;
    await this.roller.run(() =>
      this.writer.run(async () => {
        await this.writeConnection.run('CHECKPOINT').catch(() => undefined);
      }),
    );
    await this.reader.run(async () => undefined);
    this.readConnection.closeSync();
    this.rollupConnection.closeSync();
    this.writeConnection.closeSync();
    this.instance.closeSync();
  }
}
