/**
 * Secrets sent encoded: base64 or base64url runs (Basic credentials, Docker auth, bytes values the
 * collector receives as base64) and percent-encoded text (query strings, form bodies). Each run is
 * decoded once, scanned with the ordinary rules, and replaced when they find something. Linear: a
 * character belongs to at most one candidate run, and decoding is not repeated on what it yields.
 */
import { redactionMarker } from './markers.js';

/** What the caller's rules make of a text; `rule` names the first replacement, if any. */
export type DecodedScan = (decoded: string) => { text: string; rule: string | undefined };

/** Runs shorter than this decode to under 12 bytes: too short to hold a credential worth the work. */
const MIN_BASE64_RUN = 16;
const BASE64_RUN = /[A-Za-z0-9+/_-]{16,}={0,2}/g;
const PERCENT_ESCAPE = /%[0-9A-Fa-f]{2}/;
const PERCENT_RUNS = /(?:%[0-9A-Fa-f]{2})+/g;

/** Decoded bytes that read as text: a secret inside is worth finding; random bytes are not. */
const readsAsText = (text: string): boolean => {
  if (text.length < 8) return false;
  let printable = 0;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code === 0xfffd || code === 0) return false;
    if (code === 9 || code === 10 || code === 13 || (code >= 32 && code !== 127)) printable++;
  }
  return printable >= text.length * 0.95;
};

/** Percent escapes decoded where they form valid UTF-8; invalid sequences stay as written. */
const percentDecoded = (text: string): string =>
  text.replace(PERCENT_RUNS, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run;
    }
  });

/**
 * `text` with every encoded secret replaced: a percent-encoded text whose decoded form holds one is
 * kept in its decoded, redacted form; a base64 run holding one becomes the marker of what it held.
 */
export const redactEncoded = (text: string, scan: DecodedScan): string => {
  let current = text;
  if (PERCENT_ESCAPE.test(current)) {
    const decoded = percentDecoded(current);
    if (decoded !== current) {
      const scanned = scan(decoded);
      if (scanned.rule !== undefined) current = scanned.text;
    }
  }
  if (current.length < MIN_BASE64_RUN) return current;
  BASE64_RUN.lastIndex = 0;
  let output = '';
  let copiedUpTo = 0;
  for (let match = BASE64_RUN.exec(current); match !== null; match = BASE64_RUN.exec(current)) {
    const decoded = Buffer.from(match[0], 'base64').toString('utf8');
    if (!readsAsText(decoded)) continue;
    const { rule } = scan(decoded);
    if (rule === undefined) continue;
    output += current.slice(copiedUpTo, match.index) + redactionMarker(rule);
    copiedUpTo = match.index + match[0].length;
  }
  return copiedUpTo === 0 ? current : output + current.slice(copiedUpTo);
};
