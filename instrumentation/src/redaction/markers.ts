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
