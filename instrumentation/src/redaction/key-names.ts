import { neutraliseMarkers } from './markers.js';
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

/** Characters of a key that key rules read: a longer key is judged by its head and by its tail. */
export const KEY_SCAN_LIMIT = 1024;

/**
 * The texts a key is judged by: the key itself, or the head and the tail of a long one (rules look
 * at how a name ends, `…_password`, so a long prefix cannot hide it), each with markers read as words.
 */
export const keyScanParts = (key: string): string[] =>
  (key.length > KEY_SCAN_LIMIT
    ? [key.slice(0, KEY_SCAN_LIMIT / 2), key.slice(-KEY_SCAN_LIMIT / 2)]
    : [key]
  ).map(neutraliseMarkers);

/** Whether a key rule matches one of the key's parts, as written or normalised (whole, and its last 256 characters). */
export const keyPartMatches = (pattern: RegExp, part: string, normalized: string): boolean =>
  pattern.test(normalized) || pattern.test(part) || pattern.test(normalizeKeyName(part.slice(-256)));
