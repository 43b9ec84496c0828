/** How key rules see a key: one spelling for camelCase, snake_case, kebab-case, dotted and UPPER names. */

/**
 * `refreshToken`, `refresh-token`, `REFRESH_TOKEN` and `auth.refresh_token` all become
 * `refresh_token` / `auth_refresh_token`, so one rule covers every separator style.
 */
export const normalizeKeyName = (key: string): string =>
  key
    .slice(0, 256)
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .toLowerCase();

/** mcpscope's own attributes carry fingerprints, counts and reasons that later stages need. */
const OWN_ATTRIBUTE_PREFIX = 'mcpscope.';

/** Opaque cursors and correlation ids that merely end in "token" (MCP's `progressToken`, `nextPageToken`). */
const NON_CREDENTIAL_TOKEN =
  /(?:^|_)(?:progress|next|page|next_page|continuation|pagination|sync|cancellation|resume)_token$/;

/** Keys that key rules never redact, whatever they are named. */
export const isExemptKey = (key: string, normalized: string): boolean =>
  key.startsWith(OWN_ATTRIBUTE_PREFIX) || NON_CREDENTIAL_TOKEN.test(normalized);
