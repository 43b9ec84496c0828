/**
 * Values the redaction of a call's arguments replaced whole, found by walking the raw arguments beside
 * their redacted copy. A tool or server that echoes one of them in an error message ("bad password
 * hunter2") would otherwise put it in the span status, where no pattern could recognise it.
 */

/** Shorter values are too likely to be ordinary words inside a message. */
const MIN_SECRET_LENGTH = 4;
const MAX_DEPTH = 16;
const MAX_SECRETS = 64;
const REDACTED_PREFIX = '[REDACTED:';

type Found = Map<string, string>;

const leafTexts = (raw: unknown, marker: string, found: Found, depth: number): void => {
  if (found.size >= MAX_SECRETS || depth > MAX_DEPTH) return;
  if (typeof raw === 'string' || typeof raw === 'number' || typeof raw === 'bigint') {
    const text = String(raw);
    if (text.length >= MIN_SECRET_LENGTH) found.set(text, marker);
    return;
  }
  if (raw === null || typeof raw !== 'object') return;
  for (const value of Object.values(raw)) leafTexts(value, marker, found, depth + 1);
};

const walk = (raw: unknown, redacted: unknown, found: Found, depth: number): void => {
  if (found.size >= MAX_SECRETS || depth > MAX_DEPTH) return;
  if (typeof redacted === 'string' && redacted.startsWith(REDACTED_PREFIX) && redacted !== raw) {
    const end = redacted.indexOf(']');
    if (end === redacted.length - 1) leafTexts(raw, redacted, found, depth);
    return;
  }
  if (raw === null || typeof raw !== 'object' || redacted === null || typeof redacted !== 'object') return;
  if (Array.isArray(raw)) {
    if (!Array.isArray(redacted)) return;
    raw.forEach((item, index) => walk(item, redacted[index], found, depth + 1));
    return;
  }
  const redactedEntries = redacted as Record<string, unknown>;
  for (const [key, value] of Object.entries(raw)) {
    if (Object.prototype.hasOwnProperty.call(redactedEntries, key))
      walk(value, redactedEntries[key], found, depth + 1);
  }
};

/** Replaces in `text` every value that redaction replaced whole in the arguments, with the same marker. */
export const scrubArgumentSecrets = (
  text: string,
  rawArguments: unknown,
  redactedArguments: unknown,
): string => {
  if (text === '') return text;
  const found: Found = new Map();
  walk(rawArguments, redactedArguments, found, 0);
  if (found.size === 0) return text;
  let scrubbed = text;
  // Longest first, so a secret that contains another is replaced whole.
  for (const [secret, marker] of [...found].sort(([a], [b]) => b.length - a.length)) {
    if (scrubbed.includes(secret)) scrubbed = scrubbed.split(secret).join(marker);
  }
  return scrubbed;
};
