import { Hono } from 'hono';
import { requestId } from 'hono/request-id';
import { z } from 'zod';
import { CHECKPOINT_STATUSES } from '../rollup/checkpoint-conventions.js';
import { WRITE_VERDICTS } from '../rollup/checkpoints.js';
import type { CheckpointReads } from '../store/checkpoint-port.js';
import { renderError } from './api-error.js';
import { integer, label, parseQuery, timeRangeQuery } from './query-params.js';

const DEFAULT_PAGE_SIZE = 50;

const paging = {
  service: label,
  tool: label,
  limit: integer(1, 1000).optional(),
  offset: integer(0, 1_000_000).optional(),
};

const checkpointListQuery = timeRangeQuery.extend({
  ...paging,
  status: z.enum(CHECKPOINT_STATUSES).optional(),
});

const writeListQuery = timeRangeQuery.extend({
  ...paging,
  verdict: z.enum([...WRITE_VERDICTS, 'not_executed']).optional(),
  orphaned: z.enum(['true', 'false']).optional(),
});

/**
 * `GET /api/checkpoints` (what is pending now and for how long, and every checkpoint the filters
 * select), `GET /api/writes` (writes with their verdicts) and `GET /api/orphaned-writes`.
 */
export const checkpointRoutes = ({ store }: { store: CheckpointReads }): Hono => {
  const api = new Hono();
  api.use(requestId());
  api.onError(renderError);

  api.get('/api/checkpoints', async function listCheckpoints(c) {
    const query = parseQuery(checkpointListQuery, c.req.query());
    return c.json(
      await store.listCheckpoints({
        fromMs: query.from,
        toMs: query.to,
        service: query.service,
        tool: query.tool,
        status: query.status,
        limit: query.limit ?? DEFAULT_PAGE_SIZE,
        offset: query.offset,
      }),
    );
  });

  const listWrites = async (query: Record<string, string>, orphanedOnly: boolean) => {
    const parsed = parseQuery(writeListQuery, query);
    return store.listWrites({
      fromMs: parsed.from,
      toMs: parsed.to,
      service: parsed.service,
      tool: parsed.tool,
      verdict: parsed.verdict,
      orphaned: orphanedOnly ? true : parsed.orphaned === undefined ? undefined : parsed.orphaned === 'true',
      limit: parsed.limit ?? DEFAULT_PAGE_SIZE,
      offset: parsed.offset,
    });
  };

  api.get('/api/writes', async function listWritesRoute(c) {
    return c.json(await listWrites(c.req.query(), false));
  });

  api.get('/api/orphaned-writes', async function listOrphanedWrites(c) {
    const page = await listWrites(c.req.query(), true);
    return c.json({ total: page.total, writes: page.writes });
  });

  return api;
};
