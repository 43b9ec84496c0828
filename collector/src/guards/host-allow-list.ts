import { isIP } from 'node:net';
import type { MiddlewareHandler } from 'hono';
import { ApiError } from '../api/index.js';

export interface HostAllowListOptions {
  /** Names answered besides IP addresses and localhost; `*` turns the check off. */
  allowedHosts?: readonly string[];
}

/** The name in a `Host` header, without port or IPv6 brackets, lowercase, without a trailing dot. */
export const hostName = (header: string): string => {
  const trimmed = header.trim().toLowerCase();
  const name = trimmed.startsWith('[')
    ? trimmed.slice(1, trimmed.indexOf(']') >>> 0)
    : trimmed.replace(/:\d*$/, '');
  return name.replace(/\.$/, '');
};

/**
 * Whether a request for `host` may be answered. A DNS rebinding page reaches the collector under
 * the attacker's own domain name, so that is what must be refused: IP literals cannot be rebound,
 * and `localhost` names resolve to loopback by definition (RFC 6761).
 */
export const isAllowedHost = (host: string, allowedHosts: readonly string[]): boolean => {
  if (isIP(host) !== 0) return true;
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  return allowedHosts.some((allowed) => allowed === '*' || allowed.toLowerCase() === host);
};

/**
 * Refuses requests whose `Host` names neither an IP address, localhost nor a configured name, before
 * any route runs: a web page that rebinds its own name to 127.0.0.1 can then neither read the API
 * nor post spans. A request without `Host` (HTTP/1.0 tools) is no browser's and passes.
 */
export const hostAllowList = ({ allowedHosts = [] }: HostAllowListOptions = {}): MiddlewareHandler =>
  async function hostAllowList(c, next) {
    const header = c.req.header('host');
    if (header !== undefined && !isAllowedHost(hostName(header), allowedHosts)) {
      throw new ApiError(
        403,
        'host_not_allowed',
        'this collector does not answer to that host name; add it to MCPSCOPE_ALLOWED_HOSTS',
      );
    }
    await next();
  };
