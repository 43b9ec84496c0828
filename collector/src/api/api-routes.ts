import { createRedactor, type Redactor } from '@mcpscope/instrumentation/redaction';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { requestId } from 'hono/request-id';
import type { FeedbackVerdict } from '../rollup/index.js';
import type { SpanStore } from '../store/ports.js';
import { ApiError, renderError } from './api-error.js';
import {
  decodeCursor,
  encodeCursor,
  feedbackBody,
  parseQuery,
  taskListQuery,
  timeRangeQuery,
} from './query-params.js';

export interface ApiRoutesOptions {
  store: SpanStore;
  /** Told about each verdict recorded through the API. */
  onFeedback?: (verdict: FeedbackVerdict) => void;
  /** Feedback notes are free text a person typed: redacted like span attributes before storage. */
  redactor?: Pick<Redactor, 'redactString'>;
}

/** Header carrying the cursor of the next page of `GET /api/tasks` (the body keeps its documented shape). */
export const NEXT_CURSOR_HEADER = 'x-next-cursor';
const DEFAULT_PAGE_SIZE = 50;

export const apiRoutes = ({
  store,
  onFeedback = () => {},
  redactor = createRedactor(),
}: ApiRoutesOptions): Hono => {
  const api = new Hono();
  api.use(requestId());
  api.onError(renderError);

  api.get('/api/tasks', async function listTasks(c) {
    const query = parseQuery(taskListQuery, c.req.query());
    if (query.cursor !== undefined && query.offset !== undefined) {
      throw new ApiError(
        400,
        'invalid_parameter',
        'invalid query parameter "offset": use either cursor or offset',
      );
    }
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const page = await store.listTasks({
      fromMs: query.from,
      toMs: query.to,
      outcome: query.outcome,
      service: query.service,
      tool: query.tool,
      limit,
      offset: query.offset,
      after: query.cursor === undefined ? undefined : decodeCursor(query.cursor),
    });
    if (page.last !== null) c.header(NEXT_CURSOR_HEADER, encodeCursor(page.last));
    return c.json({ tasks: page.tasks });
  });

  api.get('/api/tasks/:taskId', async function getTask(c) {
    const detail = await store.getTask(c.req.param('taskId'));
    if (detail === null) throw new ApiError(404, 'not_found', 'no task with this id');
    return c.json(detail);
  });

  api.post(
    '/api/tasks/:taskId/feedback',
    bodyLimit({
      maxSize: 16 * 1024,
      onError: () => {
        throw new ApiError(413, 'too_large', 'request body is larger than 16 KiB');
      },
    }),
    async function recordFeedback(c) {
      let body: unknown;
      try {
        body = await c.req.json();
      } catch {
        throw new ApiError(400, 'invalid_body', 'request body must be JSON');
      }
      const parsed = feedbackBody.safeParse(body);
      if (!parsed.success) {
        const field = String(parsed.error.issues[0]?.path[0] ?? 'body');
        const expected =
          field === 'verdict'
            ? 'expected "correct" or "incorrect"'
            : field === 'note'
              ? 'expected a string of at most 2000 characters'
              : 'expected { verdict, note? }';
        throw new ApiError(400, 'invalid_body', `invalid field "${field}": ${expected}`);
      }
      const taskId = c.req.param('taskId');
      const note = parsed.data.note === undefined ? null : redactor.redactString(parsed.data.note).value;
      if (!(await store.recordFeedback(taskId, parsed.data.verdict, note))) {
        throw new ApiError(404, 'not_found', 'no task with this id');
      }
      onFeedback(parsed.data.verdict);
      return c.json({ taskId, verdict: parsed.data.verdict, note }, 201);
    },
  );

  api.get('/api/tools', async function listTools(c) {
    const range = parseQuery(timeRangeQuery, c.req.query());
    return c.json({ tools: await store.listTools({ fromMs: range.from, toMs: range.to }) });
  });

  api.get('/api/tools/:tool/minutes', async function toolMinutes(c) {
    const range = parseQuery(timeRangeQuery, c.req.query());
    const minutes = await store.toolMinutes(c.req.param('tool'), { fromMs: range.from, toMs: range.to });
    return c.json({
      tool: c.req.param('tool'),
      minutes: minutes.map(({ tool: _tool, minuteMs, ...stats }) => ({
        minute: new Date(minuteMs).toISOString(),
        ...stats,
      })),
    });
  });

  return api;
};
