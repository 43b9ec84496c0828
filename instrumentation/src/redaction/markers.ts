/** The replacement strings the engine writes. They name a rule or a limit, never the value. */

export const redactionMarker = (ruleName: string): string => `[REDACTED:${ruleName}]`;

/** Every marker starts with one of these; detectors never re-redact a marker. */
export const MARKER_PREFIXES = ['[REDACTED:', '[TRUNCATED:', '[CIRCULAR]'] as const;

/** Appended to a string cut at `maxStringLength`. */
export const MAX_STRING_LENGTH_MARKER = '[TRUNCATED:max_string_length]';
/** Replaces a container nested deeper than `maxDepth`. */
export const MAX_DEPTH_MARKER = '[TRUNCATED:max_depth]';
/** Replaces what is left of a container once `maxNodes` values were visited. */
export const MAX_NODES_MARKER = '[TRUNCATED:max_nodes]';
/** Replaces a reference back to an enclosing object. */
export const CIRCULAR_MARKER = '[CIRCULAR]';

export const startsWithMarker = (text: string): boolean =>
  MARKER_PREFIXES.some((prefix) => text.startsWith(prefix));

/** A marker as the engine writes it, with the `#2` a renamed key that collided gets. */
const MARKER = /\[(?:REDACTED|TRUNCATED):[a-z0-9_]{1,64}\](?:#\d{1,9})?|\[CIRCULAR\]/g;

const mentionsMarker = (text: string): boolean =>
  text.includes('[REDACTED:') || text.includes('[TRUNCATED:') || text.includes('[CIRCULAR]');

/**
 * Whether `text` is nothing but markers and punctuation: what the engine itself wrote. Text that
 * merely contains a marker (anyone can type one) is still scanned and replaced.
 */
export const onlyMarkers = (text: string): boolean =>
  mentionsMarker(text) && !/[A-Za-z0-9]/.test(text.replace(MARKER, ''));

/** Markers read as the plain word `redacted`, so the rule name inside one never names a key. */
export const neutraliseMarkers = (text: string): string =>
  mentionsMarker(text) ? text.replace(MARKER, 'redacted') : text;
