import type { AttributeValue, Attributes, SpanKind, SpanStatusCode } from '../model/span.js';
import { OtlpDecodeError } from './errors.js';
import type { OtlpLimits } from './limits.js';

/**
 * Readers for the field values of a decoded OTLP request. One set serves both encodings: protobufjs
 * hands over ids as bytes, 64-bit integers as Long objects and enums as numbers; OTLP/JSON has hex
 * ids, 64-bit integers as decimal strings or numbers, and enums as numbers or names.
 */

/** Appended to a cut string; the `[TRUNCATED:` prefix is one the redaction engine leaves alone. */
export const TRUNCATION_MARKER = '[TRUNCATED:max_attribute_value_length]';

/** What reading a request noticed without refusing it. */
export interface ReadNotes {
  truncatedValues: number;
}

const HEX_BY_LENGTH: Record<number, RegExp> = { 16: /^[0-9a-f]{16}$/i, 32: /^[0-9a-f]{32}$/i };
const ALL_ZERO = /^0+$/;

/** A trace or span id as lowercase hex; `undefined` when the field is empty (absent, `""` or no bytes). */
function readIdHex(value: unknown, byteLength: 8 | 16, field: string): string | undefined {
  // protobufjs leaves an absent bytes field as a shared empty array.
  if (value === undefined || value === null || (Array.isArray(value) && value.length === 0)) return undefined;
  if (value instanceof Uint8Array) {
    if (value.length === 0) return undefined;
    if (value.length !== byteLength) {
      throw new OtlpDecodeError('invalid', `${field} must be ${byteLength} bytes, got ${value.length}`);
    }
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex');
  }
  if (typeof value === 'string') {
    if (value.length === 0) return undefined;
    if (!HEX_BY_LENGTH[byteLength * 2]?.test(value)) {
      throw new OtlpDecodeError('invalid', `${field} must be ${byteLength * 2} hexadecimal characters`);
    }
    return value.toLowerCase();
  }
  throw new OtlpDecodeError('invalid', `${field} has the wrong type`);
}

/** A required id: present, of the right length, not all zero. */
export function readRequiredId(value: unknown, byteLength: 8 | 16, field: string): string {
  const hex = readIdHex(value, byteLength, field);
  if (hex === undefined || ALL_ZERO.test(hex)) {
    throw new OtlpDecodeError('invalid', `${field} is missing or all zero`);
  }
  return hex;
}

/** A parent span id: empty or all zero means a root span. */
export function readParentSpanId(value: unknown): string | null {
  const hex = readIdHex(value, 8, 'parentSpanId');
  return hex === undefined || ALL_ZERO.test(hex) ? null : hex;
}

interface LongLike {
  low: number;
  high: number;
  unsigned?: boolean;
}

const isLongLike = (value: unknown): value is LongLike =>
  typeof value === 'object' && value !== null && typeof (value as LongLike).low === 'number';

const DECIMAL = /^-?\d{1,20}$/;

function readInt64(value: unknown, field: string, signed: boolean): bigint {
  if (value === undefined || value === null) return 0n;
  let result: bigint;
  if (typeof value === 'bigint') result = value;
  // JSON senders may write nanosecond times as plain numbers, already rounded beyond 2^53: take them as given.
  else if (typeof value === 'number' && Number.isInteger(value)) result = BigInt(value);
  else if (typeof value === 'string' && DECIMAL.test(value)) result = BigInt(value);
  else if (isLongLike(value)) {
    const bits = (BigInt(value.high >>> 0) << 32n) | BigInt(value.low >>> 0);
    result = signed && !value.unsigned ? BigInt.asIntN(64, bits) : bits;
  } else {
    throw new OtlpDecodeError('invalid', `${field} is not a 64-bit integer`);
  }
  const inRange = signed
    ? result === BigInt.asIntN(64, result)
    : result >= 0n && result === BigInt.asUintN(64, result);
  if (!inRange) throw new OtlpDecodeError('invalid', `${field} is out of range`);
  return result;
}

/** Times are stored as signed 64-bit nanoseconds: enough until the year 2262, and nothing later is a real time. */
const MAX_UNIX_NANO = 2n ** 63n - 1n;

/** A `fixed64` nanosecond timestamp. */
export const readUnixNano = (value: unknown, field: string): bigint => {
  const nanos = readInt64(value, field, false);
  if (nanos > MAX_UNIX_NANO) throw new OtlpDecodeError('invalid', `${field} is out of range`);
  return nanos;
};

const SPAN_KINDS: readonly SpanKind[] = [
  'unspecified',
  'internal',
  'server',
  'client',
  'producer',
  'consumer',
];
const STATUS_CODES: readonly SpanStatusCode[] = ['unset', 'ok', 'error'];

function readEnum<T extends string>(value: unknown, names: readonly T[], prefix: string, field: string): T {
  if (value === undefined || value === null) return names[0]!;
  if (typeof value === 'number' && Number.isInteger(value)) {
    const name = names[value];
    if (name !== undefined) return name;
  }
  if (typeof value === 'string' && value.startsWith(prefix)) {
    const name = value.slice(prefix.length).toLowerCase() as T;
    if (names.includes(name)) return name;
  }
  throw new OtlpDecodeError('invalid', `${field} is not a known value`);
}

export const readSpanKind = (value: unknown): SpanKind =>
  readEnum(value, SPAN_KINDS, 'SPAN_KIND_', 'span kind');
export const readStatusCode = (value: unknown): SpanStatusCode =>
  readEnum(value, STATUS_CODES, 'STATUS_CODE_', 'status code');

/**
 * A string field, whole: values longer than the configured length are counted here and cut only
 * after redaction has seen them whole (a cut before it would leave the head of a secret behind).
 */
export function readString(value: unknown, field: string, limits: OtlpLimits, notes: ReadNotes): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw new OtlpDecodeError('invalid', `${field} must be a string`);
  if (value.length > limits.maxAttributeValueLength) notes.truncatedValues += 1;
  return value;
}

const hasOwn = (value: object, key: string): boolean => Object.prototype.hasOwnProperty.call(value, key);

function asList(value: unknown, field: string): readonly unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new OtlpDecodeError('invalid', `${field} must be a list`);
  return value;
}

const SPECIAL_DOUBLES: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };

function readAnyValue(value: unknown, depth: number, limits: OtlpLimits, notes: ReadNotes): AttributeValue {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object')
    throw new OtlpDecodeError('invalid', 'attribute value must be an AnyValue object');
  if (depth > limits.maxValueDepth) {
    throw new OtlpDecodeError('invalid', `attribute value nested deeper than ${limits.maxValueDepth} levels`);
  }
  const anyValue = value as Record<string, unknown>;
  if (hasOwn(anyValue, 'stringValue')) return readString(anyValue.stringValue, 'stringValue', limits, notes);
  if (hasOwn(anyValue, 'boolValue')) {
    if (typeof anyValue.boolValue !== 'boolean')
      throw new OtlpDecodeError('invalid', 'boolValue must be a boolean');
    return anyValue.boolValue;
  }
  if (hasOwn(anyValue, 'intValue')) {
    const integer = readInt64(anyValue.intValue, 'intValue', true);
    // Beyond 2^53 a JavaScript number would silently change the value: keep the digits.
    return integer >= BigInt(Number.MIN_SAFE_INTEGER) && integer <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(integer)
      : integer.toString();
  }
  if (hasOwn(anyValue, 'doubleValue')) {
    const double = anyValue.doubleValue;
    if (typeof double === 'number') return double;
    if (typeof double === 'string' && double in SPECIAL_DOUBLES) return SPECIAL_DOUBLES[double]!;
    throw new OtlpDecodeError('invalid', 'doubleValue must be a number');
  }
  if (hasOwn(anyValue, 'bytesValue')) {
    const bytes = anyValue.bytesValue;
    if (bytes instanceof Uint8Array)
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
    return readString(bytes, 'bytesValue', limits, notes);
  }
  if (hasOwn(anyValue, 'arrayValue')) {
    const array = anyValue.arrayValue as { values?: unknown } | null;
    return asList(array?.values, 'arrayValue.values').map((item) =>
      readAnyValue(item, depth + 1, limits, notes),
    );
  }
  if (hasOwn(anyValue, 'kvlistValue')) {
    const list = anyValue.kvlistValue as { values?: unknown } | null;
    return readKeyValues(list?.values, 'kvlistValue', depth + 1, limits, notes);
  }
  return null;
}

function readKeyValues(
  value: unknown,
  field: string,
  depth: number,
  limits: OtlpLimits,
  notes: ReadNotes,
): { [key: string]: AttributeValue } {
  const list = asList(value, field);
  if (list.length > limits.maxAttributesPerSpan) {
    throw new OtlpDecodeError(
      'limit_exceeded',
      `${field} has ${list.length} entries; at most ${limits.maxAttributesPerSpan} are accepted`,
    );
  }
  // A null-prototype object: a key such as `__proto__` stays an ordinary attribute.
  const attributes: { [key: string]: AttributeValue } = Object.create(null);
  for (const entry of list) {
    if (typeof entry !== 'object' || entry === null)
      throw new OtlpDecodeError('invalid', `${field} entry must be an object`);
    const { key, value: entryValue } = entry as { key?: unknown; value?: unknown };
    if (typeof key !== 'string') throw new OtlpDecodeError('invalid', `${field} entry key must be a string`);
    if (key.length > limits.maxAttributeValueLength) {
      throw new OtlpDecodeError(
        'limit_exceeded',
        `${field} has a key longer than ${limits.maxAttributeValueLength} characters`,
      );
    }
    attributes[key] = readAnyValue(entryValue, depth, limits, notes);
  }
  return attributes;
}

/** A repeated `KeyValue` field (span, event, link, resource or scope attributes). */
export const readAttributes = (
  value: unknown,
  field: string,
  limits: OtlpLimits,
  notes: ReadNotes,
): Attributes => readKeyValues(value, field, 1, limits, notes);

export { asList };
