import type { MiddlewareHandler } from 'hono';
import { ApiError } from '../api/index.js';
import { hostName, isAllowedHost } from './host-allow-list.js';

export interface JsonOnlyOptions {
  allowedHosts?: readonly string[];
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** `application/json`, or a structured `+json` type, whatever its parameters. */
export const isJsonMediaType = (contentType: string | undefined): boolean => {
  const mediaType = contentType?.split(';')[0]?.trim().toLowerCase() ?? '';
  return mediaType === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(mediaType);
};

/**
 * State-changing API requests must carry JSON: a page on another site can post forms and
 * `text/plain` without asking, but never `application/json` without a CORS preflight, which the
 * collector does not grant. An `Origin` the collector would not answer to is refused as well.
 */
export const jsonOnly = ({ allowedHosts = [] }: JsonOnlyOptions = {}): MiddlewareHandler =>
  async function jsonOnly(c, next) {
    if (!SAFE_METHODS.has(c.req.method)) {
      if (!isJsonMediaType(c.req.header('content-type'))) {
        throw new ApiError(415, 'unsupported_media_type', 'Content-Type must be application/json');
      }
      const origin = c.req.header('origin');
      if (origin !== undefined && !isAllowedOrigin(origin, allowedHosts)) {
        throw new ApiError(403, 'origin_not_allowed', 'requests from that origin are not accepted');
      }
    }
    await next();
  };

/** An opaque origin (`null`, sent by sandboxed frames and some redirects) is never allowed. */
const isAllowedOrigin = (origin: string, allowedHosts: readonly string[]): boolean => {
  try {
    return isAllowedHost(hostName(new URL(origin).host), allowedHosts);
  } catch {
    return false;
  }
};
