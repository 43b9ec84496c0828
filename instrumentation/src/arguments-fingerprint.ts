import * as crypto from 'node:crypto';
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

/** SHA-256's block size: HMAC pads its key to one block. */
const HMAC_BLOCK_BYTES = 64;
const SHA256_BYTES = 32;

type OneShotHash = (algorithm: string, data: string | Buffer, outputEncoding: string) => string | Buffer;
/** `crypto.hash` (Node ≥ 20.12) hashes in one native call, without building a Hash object per use. */
const oneShotHash = (crypto as unknown as { hash?: OneShotHash }).hash;

/** Key bytes below 0x80 keep both HMAC pads ASCII, so the inner pad can lead a UTF-8 string unchanged. */
const isAsciiKey = (key: Buffer): boolean =>
  key.length <= HMAC_BLOCK_BYTES && key.every((byte) => byte < 0x80);

/** A random key of ASCII-range bytes: 448 bits, and the one-shot path below applies. */
const randomAsciiKey = (): Buffer => {
  const key = randomBytes(HMAC_BLOCK_BYTES);
  for (let index = 0; index < key.length; index++) key[index] = (key[index] as number) & 0x7f;
  return key;
};

/**
 * HMAC-SHA256 (RFC 2104) from two one-shot hashes: H((K ^ opad) || H((K ^ ipad) || message)). It equals
 * `createHmac` for the same key, at a fraction of the cost of a Hmac object per call.
 */
const oneShotHmac = (hash: OneShotHash, key: Buffer) => {
  const innerPad = Buffer.alloc(HMAC_BLOCK_BYTES, 0x36);
  const outerBlock = Buffer.alloc(HMAC_BLOCK_BYTES + SHA256_BYTES, 0x5c);
  key.forEach((byte, index) => {
    innerPad[index] = 0x36 ^ byte;
    outerBlock[index] = 0x5c ^ byte;
  });
  const innerPrefix = innerPad.toString('latin1');
  return (message: string): string => {
    const inner = hash('sha256', innerPrefix + message, 'buffer') as Buffer;
    inner.copy(outerBlock, HMAC_BLOCK_BYTES);
    return hash('sha256', outerBlock, 'hex') as string;
  };
};

/** A keyed fingerprint of raw arguments: equal arguments give equal fingerprints, values stay unknown. */
export const createArgumentsFingerprinter = (key: string | undefined) => {
  const keyBytes = key !== undefined && key !== '' ? Buffer.from(key, 'utf8') : randomAsciiKey();
  if (oneShotHash && isAsciiKey(keyBytes)) {
    const hmac = oneShotHmac(oneShotHash, keyBytes);
    return function argumentsFingerprint(args: unknown): string {
      return hmac(canonicalJson(args ?? {})).slice(0, 32);
    };
  }
  // Long or non-ASCII keys: a key object, made once, each HMAC starting from it.
  const secret = createSecretKey(keyBytes);
  return function argumentsFingerprint(args: unknown): string {
    return createHmac('sha256', secret)
      .update(canonicalJson(args ?? {}))
      .digest('hex')
      .slice(0, 32);
  };
};
