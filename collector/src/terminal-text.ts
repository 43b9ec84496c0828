/**
 * Text from spans made safe to print on a terminal. Task ids, service and tool names come from any
 * producer: an escape sequence in them could move the cursor, rewrite earlier lines, set the window
 * title or reorder text (bidirectional overrides).
 */

// eslint-disable-next-line no-control-regex -- these are exactly the characters to neutralise
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/g;
/** Bidirectional embeddings, overrides and isolates, and the line and paragraph separators. */
const INVISIBLE_LAYOUT = /[\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const hex = (char: string, width: number) => char.charCodeAt(0).toString(16).padStart(width, '0');

/** Control characters become visible `\xNN`, layout controls `\u{NNNN}`; everything else is kept. */
export const terminalSafe = (value: string): string =>
  value
    .replace(CONTROL_CHARACTERS, (char) => `\\x${hex(char, 2)}`)
    .replace(INVISIBLE_LAYOUT, (char) => `\\u{${hex(char, 4)}}`);

/** What `JSON.stringify` leaves raw but a terminal acts on. */
const RAW_IN_JSON = /[\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** JSON for a terminal: what `JSON.stringify` leaves raw (DEL, C1 controls, layout controls) as `\uNNNN`. */
export const terminalSafeJson = (value: unknown): string =>
  JSON.stringify(value, null, 2).replace(RAW_IN_JSON, (char) => `\\u${hex(char, 4)}`);
