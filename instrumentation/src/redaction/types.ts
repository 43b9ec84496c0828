/** Public types of the redaction engine. */

export interface RedactionRule {
  /** Stable lowercase snake_case name; appears in markers and in a metric label. */
  name: string;
  /** Matches object keys / attribute names whose whole value is secret. */
  key?: RegExp;
  /** Matches secret substrings inside string values; every match is replaced. Must be linear-time safe. */
  value?: RegExp;
}

export interface RedactorOptions {
  /** Extra user rules, applied in addition to the built-ins. */
  rules?: readonly RedactionRule[];
  /** Default 4096: longer strings are cut, with a marker appended. */
  maxStringLength?: number;
  /** Default 16: deeper subtrees become a marker. */
  maxDepth?: number;
  /** Default 10_000 values visited per call; the rest becomes a marker. */
  maxNodes?: number;
}

export interface RedactionResult<T> {
  value: T;
  /** How many values or substrings were replaced. */
  count: number;
  /** Replacements per rule name, e.g. { jwt: 1, key_password: 2 }. */
  byRule: Record<string, number>;
}

export interface Redactor {
  /** Any JSON-like value (objects, arrays, strings, numbers...). Never mutates the input. */
  redactValue(value: unknown): RedactionResult<unknown>;
  redactString(value: string): RedactionResult<string>;
  /** OTel-style attribute map: key rules also apply to dotted attribute names
   *  (e.g. `http.request.header.authorization`, `db.password`). */
  redactAttributes(attributes: Record<string, unknown>): RedactionResult<Record<string, unknown>>;
}
