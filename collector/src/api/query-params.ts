import { z } from 'zod';
import { FEEDBACK_VERDICTS, TASK_OUTCOMES } from '../rollup/index.js';
import { ApiError } from './api-error.js';

/** `2026-12-07`, or a date-time with seconds optional, a fraction optional and a zone required. */
const ISO_INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/;
/** The latest instant a JavaScript date holds. */
const MAX_MS = 8.64e15;

/**
 * Unix milliseconds from an ISO 8601 instant (a date alone is UTC midnight) or from Unix milliseconds;
 * undefined for anything else. Strict where `Date.parse` guesses: no local times, no day names, no
 * 30 February rolled over into March.
 */
export const parseInstant = (value: string): number | undefined => {
  if (/^\d{1,16}$/.test(value)) {
    const ms = Number(value);
    return ms <= MAX_MS ? ms : undefined;
  }
  const match = ISO_INSTANT.exec(value);
  if (!match) return undefined;
  const [, year, month, day, hour = '00', minute = '00', second = '00', zone] = match;
  const ms = Date.parse(zone === undefined ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(ms)) return undefined;
  // The calendar day must be the one written (Date.parse would roll 2026-02-30 into March).
  const date = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day)));
  const sameDay =
    date.getUTCFullYear() === Number(year) &&
    date.getUTCMonth() === Number(month) - 1 &&
    date.getUTCDate() === Number(day);
  return sameDay && Number(hour) < 24 && Number(minute) < 60 && Number(second) < 60 ? ms : undefined;
};

/** ISO 8601 instant or Unix milliseconds, as Unix milliseconds. */
const instant = z
  .string()
  .transform((value, context) => {
    const ms = parseInstant(value);
    if (ms === undefined) {
      context.addIssue({
        code: z.ZodIssueCode.custom,
        message:
          'expected an ISO 8601 date or date-time with a zone (2026-12-07, 2026-12-07T09:30:00Z, 2026-12-07T10:30:00+01:00) or Unix milliseconds',
      });
      return z.NEVER;
    }
    return ms;
  })
  .optional();

export const label = z.string().min(1).max(256).optional();

export const integer = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,9}$/, `expected an integer from ${min} to ${max}`)
    .transform(Number)
    .pipe(
      z
        .number()
        .min(min, `expected an integer from ${min} to ${max}`)
        .max(max, `expected an integer from ${min} to ${max}`),
    );

export const timeRangeQuery = z.object({ from: instant, to: instant });

export const taskListQuery = timeRangeQuery.extend({
  outcome: z.enum(TASK_OUTCOMES).optional(),
  service: label,
  tool: label,
  limit: integer(1, 1000).optional(),
  cursor: z.string().max(512).optional(),
  offset: integer(0, 1_000_000).optional(),
});

export const feedbackBody = z.object({
  verdict: z.enum(FEEDBACK_VERDICTS),
  note: z.string().max(2000).optional(),
});

/** Parses query parameters; a bad one is a 400 naming the parameter and what it expected, never its value. */
export const parseQuery = <T extends z.ZodTypeAny>(schema: T, query: Record<string, string>): z.output<T> => {
  const result = schema.safeParse(query);
  if (result.success) return result.data as z.output<T>;
  const issue = result.error.issues[0];
  const parameter = String(issue?.path[0] ?? 'query');
  const expected =
    issue?.code === 'invalid_enum_value'
      ? `expected one of ${issue.options.join(', ')}`
      : (issue?.message ?? 'invalid');
  throw new ApiError(400, 'invalid_parameter', `invalid query parameter "${parameter}": ${expected}`);
};

interface TaskCursor {
  startNs: bigint;
  taskId: string;
}

export const encodeCursor = ({ startNs, taskId }: TaskCursor): string =>
  Buffer.from(JSON.stringify([startNs.toString(), taskId])).toString('base64url');

export const decodeCursor = (cursor: string): TaskCursor => {
  try {
    const decoded: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(decoded) &&
      decoded.length === 2 &&
      typeof decoded[0] === 'string' &&
      typeof decoded[1] === 'string' &&
      /^-?\d{1,20}$/.test(decoded[0])
    ) {
      return { startNs: BigInt(decoded[0]), taskId: decoded[1] };
    }
  } catch {
    // falls through to the error below
  }
  throw new ApiError(
    400,
    'invalid_parameter',
    'invalid query parameter "cursor": expected a cursor from a previous page',
  );
};
