import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { IngestOverloadedError } from '../model/span.js';
import { DuckDbStore, MIGRATIONS } from '../store/index.js';
import type { SpanStore } from '../store/index.js';
import { openTempStore } from '../store/test-support/temp-store.js';
import { IngestQueue } from './ingest-queue.js';
import { makeSpan } from './test-support/spans.js';
import { workloadBatches } from './test-support/workload.js';

const run = promisify(execFile);
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

const temp = async () => {
  const opened = await openTempStore();
  cleanups.push(opened.cleanup);
  return opened;
};

/** Counts stored spans from a separate Node process, as a second reader of the closed file would. */
const countSpansInOtherProcess = async (path: string): Promise<number> => {
  const script = `
    import { DuckDBInstance } from '@duckdb/node-api';
    const instance = await DuckDBInstance.create(process.argv[1], { access_mode: 'READ_ONLY' });
    const connection = await instance.connect();
    const reader = await connection.runAndReadAll('SELECT count(*) AS n FROM spans');
    console.log(String(reader.getRowObjectsJS()[0].n));`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script, path], {
    cwd: new URL('../../', import.meta.url).pathname,
  });
  return Number(stdout.trim());
};

const spans = (count: number, trace = 'bulk') =>
  Array.from({ length: count }, (_, index) =>
    makeSpan({ trace, span: `${trace}-${index}`, startMs: index, durationMs: 1, service: 'agent' }),
  );

/** A real store whose commits wait until released, so the queue fills the way it does behind a slow disk. */
const gatedStore = async () => {
  const { store } = await temp();
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  const slowStore: Pick<SpanStore, 'commit'> = {
    commit: async (batch) => {
      await gate;
      return store.commit(batch);
    },
  };
  return { slowStore, release };
};

describe('ingest queue', () => {
  it('acknowledges a request only once its spans are durable for another process', async () => {
    const { store, path } = await temp();
    const queue = new IngestQueue({ store, batchIntervalMs: 5 });
    const [batch1, batch2] = workloadBatches();
    await Promise.all([queue.accept(batch1!), queue.accept(batch2!)]);
    await queue.close();
    await store.close();
    expect(await countSpansInOtherProcess(path)).toBe(batch1!.length + batch2!.length);
  });

  it('rejects every request of a batch whose commit fails, and acknowledges nothing', async () => {
    const { store } = await temp();
    const queue = new IngestQueue({ store, batchIntervalMs: 5 });
    await store.close();
    const results = await Promise.allSettled([queue.accept(spans(3, 'x')), queue.accept(spans(2, 'y'))]);
    expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    expect(queue.depth).toBe(0);
  });

  it('commits the other requests of a group when one of them cannot be stored', async () => {
    const { store, path } = await temp();
    const queue = new IngestQueue({ store, batchIntervalMs: 20 });
    // An end time no signed 64-bit column holds: the decoders refuse it, so it comes in directly here.
    const [unstorable] = spans(1, 'poison');
    const poison = [{ ...unstorable!, endTimeUnixNano: 2n ** 64n - 1n }];
    const results = await Promise.allSettled([
      queue.accept(spans(3, 'x')),
      queue.accept(poison),
      queue.accept(spans(2, 'y')),
    ]);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    await queue.close();
    await store.close();
    expect(await countSpansInOtherProcess(path)).toBe(5);
  });

  it('answers IngestOverloadedError once the spans waiting reach capacity, and recovers after', async () => {
    const { slowStore, release } = await gatedStore();
    const queue = new IngestQueue({
      store: slowStore,
      capacity: 10,
      batchSize: 5,
      batchIntervalMs: 1,
      retryAfterSeconds: 2,
    });
    const first = queue.accept(spans(6, 'a'));
    const second = queue.accept(spans(4, 'b'));
    expect(queue.isFull).toBe(true);
    const refused = await queue.accept(spans(1, 'c')).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(IngestOverloadedError);
    expect((refused as IngestOverloadedError).retryAfterSeconds).toBe(2);
    release();
    await Promise.all([first, second]);
    await expect(queue.accept(spans(1, 'c'))).resolves.toBeUndefined();
    await queue.close();
  });

  it('also bounds the request bytes waiting, and says before decoding whether a request would fit', async () => {
    const { slowStore, release } = await gatedStore();
    const queue = new IngestQueue({ store: slowStore, capacity: 1_000, capacityBytes: 1_000, batchSize: 1 });
    // An empty queue takes a request of any size, or an oversized one could never be accepted.
    expect(() => queue.checkRoomFor(5_000)).not.toThrow();
    const first = queue.accept(spans(2, 'a'), 600);
    expect(queue.depthBytes).toBe(600);
    expect(() => queue.checkRoomFor(400)).not.toThrow();
    expect(() => queue.checkRoomFor(401)).toThrow(IngestOverloadedError);
    const refused = await queue.accept(spans(1, 'b'), 401).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(IngestOverloadedError);
    const second = queue.accept(spans(1, 'c'), 400);
    expect(queue.isFull).toBe(true);
    expect(() => queue.checkRoomFor(1)).toThrow(IngestOverloadedError);
    release();
    await Promise.all([first, second]);
    expect(queue.depthBytes).toBe(0);
    expect(() => queue.checkRoomFor(1_000)).not.toThrow();
    await queue.close();
    expect(() => queue.checkRoomFor(1)).toThrow(IngestOverloadedError);
  });

  it('flushes accepted spans on close', async () => {
    const { store } = await temp();
    const queue = new IngestQueue({ store, batchIntervalMs: 60_000, batchSize: 1_000 });
    const accepted = queue.accept(spans(7));
    await queue.close();
    await accepted;
    expect((await store.listTasks({ limit: 10 })).tasks).toHaveLength(1);
  });

  it('keeps data and migrations across a restart, and counts a redelivery after it once', async () => {
    const { store, path } = await temp();
    const [batch1] = workloadBatches();
    await store.commit(batch1!);
    const before = await store.listTasks({ limit: 100 });
    await store.close();

    const reopened = await DuckDbStore.open({ path });
    cleanups.unshift(() => reopened.close());
    expect(await reopened.schemaVersions()).toEqual(MIGRATIONS.map((migration) => migration.version));
    expect(await reopened.listTasks({ limit: 100 })).toEqual(before);
    const redelivery = await reopened.commit(batch1!);
    expect(redelivery.stored).toHaveLength(0);
    expect(redelivery.duplicates).toBe(batch1!.length);
    expect(await reopened.listTasks({ limit: 100 })).toEqual(before);
  });
});
