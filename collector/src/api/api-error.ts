import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/** The one error type of the HTTP surface: it knows its status and renders `{ code, message, requestId }`. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

const requestIdOf = (c: Context): string | null => {
  const id: unknown = c.get('requestId');
  return typeof id === 'string' ? id : null;
};

/** `app.onError`: known errors render themselves, anything else is a 500 that says nothing about input. */
export const renderError = (error: Error, c: Context): Response => {
  const requestId = requestIdOf(c);
  if (error instanceof ApiError) {
    for (const [name, value] of Object.entries(error.headers)) c.header(name, value);
    return c.json({ code: error.code, message: error.message, requestId }, error.status);
  }
  const status = (error as { status?: unknown }).status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // Errors from Hono middleware (e.g. bodyLimit) carry a status; keep it, drop their text.
    return c.json(
      { code: 'bad_request', message: 'the request was rejected', requestId },
      status as ContentfulStatusCode,
    );
  }
  return c.json({ code: 'internal', message: 'internal error', requestId }, 500);
};
