import { createHmac, createSecretKey, randomBytes } from 'node:crypto';

/** Why the one-pass writer hands a value over to the general path. */
const UNSUPPORTED = Symbol('unsupported');
/** Deeper than this, the general path decides (it is the reference for every odd case). */
const MAX_FAST_DEPTH = 64;

const isDigit = (code: number): boolean => code >= 48 && code <= 57;

/** Characters JSON escapes (quote, backslash, controls) or checks (surrogates): only then ask JSON.stringify. */
// eslint-disable-next-line no-control-regex -- control characters are exactly what JSON escapes
const NEEDS_ESCAPING = /["\\\u0000-\u001f\ud800-\udfff]/;
const quote = (text: string): string => (NEEDS_ESCAPING.test(text) ? JSON.stringify(text) : `"${text}"`);

/** Argument names repeat from call to call (a tool's schema names them): their quoted form is kept. */
const quotedKeys = new Map<string, string>();
const QUOTED_KEYS_LIMIT = 4096;
const QUOTED_KEY_MAX_LENGTH = 64;
const quoteKey = (key: string): string => {
  let quoted = quotedKeys.get(key);
  if (quoted === undefined) {
    quoted = quote(key);
    if (key.length <= QUOTED_KEY_MAX_LENGTH) {
      if (quotedKeys.size >= QUOTED_KEYS_LIMIT) quotedKeys.clear();
      quotedKeys.set(key, quoted);
    }
  }
  return quoted;
};

/**
 * Sorts keys in place by UTF-16 code units, as `Array.prototype.sort` does for strings; an insertion
 * sort is quicker for the handful of keys an argument object has.
 */
const sortKeys = (keys: string[]): string[] => {
  if (keys.length > 16) return keys.sort();
  for (let index = 1; index < keys.length; index++) {
    const key = keys[index] as string;
    let at = index - 1;
    for (; at >= 0 && (keys[at] as string) > key; at--) keys[at + 1] = keys[at] as string;
    keys[at + 1] = key;
  }
  return keys;
};

/**
 * The canonical JSON of plain JSON data (plain objects, plain arrays, strings, finite or not numbers,
 * booleans, null), written in one pass without building a sorted copy. Anything else (undefined,
 * functions, class instances, `toJSON`, `__proto__` or digit-leading keys, a repeated array, cycles)
 * returns UNSUPPORTED, and the general path below decides.
 */
const writePlainJson = (
  node: unknown,
  depth: number,
  ancestors: object[],
  arrays: Set<object>,
): string | typeof UNSUPPORTED => {
  switch (typeof node) {
    case 'string':
      return quote(node);
    case 'number':
      return Number.isFinite(node) ? String(node) : 'null';
    case 'boolean':
      return node ? 'true' : 'false';
    case 'object':
      break;
    default:
      return UNSUPPORTED;
  }
  if (node === null) return 'null';
  if (depth > MAX_FAST_DEPTH || ancestors.includes(node)) return UNSUPPORTED;
  const proto: unknown = Object.getPrototypeOf(node);
  if (Array.isArray(node)) {
    // The general path marks an array met a second time, anywhere, as a cycle.
    if (proto !== Array.prototype || arrays.has(node)) return UNSUPPORTED;
    arrays.add(node);
    ancestors.push(node);
    let json = '[';
    for (let index = 0; index < node.length; index++) {
      const item = writePlainJson(node[index], depth + 1, ancestors, arrays);
      if (item === UNSUPPORTED) return UNSUPPORTED;
      json += index === 0 ? item : `,${item}`;
    }
    ancestors.pop();
    return `${json}]`;
  }
  if (proto !== Object.prototype && proto !== null) return UNSUPPORTED;
  const keys = sortKeys(Object.keys(node));
  ancestors.push(node);
  let json = '{';
  for (let index = 0; index < keys.length; index++) {
    const key = keys[index] as string;
    // Integer-like keys are ordered apart by JSON.stringify; these three are special to objects.
    if (isDigit(key.charCodeAt(0)) || key === '__proto__' || key === 'toJSON') return UNSUPPORTED;
    const value = writePlainJson((node as Record<string, unknown>)[key], depth + 1, ancestors, arrays);
    if (value === UNSUPPORTED) return UNSUPPORTED;
    json += `${index === 0 ? '' : ','}${quoteKey(key)}:${value}`;
  }
  ancestors.pop();
  return `${json}}`;
};

/** The general path: a sorted copy at every depth, then JSON.stringify. */
const canonicalCopyJson = (value: unknown): string => {
  const seen = new WeakSet<object>();
  const normalise = (node: unknown): unknown => {
    if (node === null || typeof node !== 'object') return typeof node === 'bigint' ? node.toString() : node;
    if (seen.has(node)) return '[cycle]';
    seen.add(node);
    if (Array.isArray(node)) return node.map(normalise);
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(node).sort())
      sorted[key] = normalise((node as Record<string, unknown>)[key]);
    seen.delete(node);
    return sorted;
  };
  return JSON.stringify(normalise(value)) ?? 'null';
};

/**
 * JSON with object keys sorted at every depth, so `{a,b}` and `{b,a}` fingerprint alike. Values JSON
 * cannot hold (functions, symbols, undefined) are dropped as JSON.stringify drops them; cycles become
 * a fixed marker instead of throwing. Plain JSON data, what tool arguments are, takes a one-pass
 * writer; both paths give the same text.
 */
export const canonicalJson = (value: unknown): string => {
  const fast = writePlainJson(value, 0, [], new Set());
  return fast === UNSUPPORTED ? canonicalCopyJson(value) : fast;
};

/** A keyed fingerprint of raw arguments: equal arguments give equal fingerprints, values stay unknown. */
export const createArgumentsFingerprinter = (key: string | undefined) => {
  // A key object, made once: each HMAC then starts from it rather than from a copy of the bytes.
  const secret = createSecretKey(
    key !== undefined && key !== '' ? Buffer.from(key, 'utf8') : randomBytes(32),
  );
  return function argumentsFingerprint(args: unknown): string {
    return createHmac('sha256', secret)
      .update(canonicalJson(args ?? {}))
      .digest('hex')
      .slice(0, 32);
  };
};
