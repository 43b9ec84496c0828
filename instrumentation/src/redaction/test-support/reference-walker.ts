/**
 * The walker as it was before prefilters, caches and cheaper bookkeeping: every scanner over every
 * string. Kept unchanged as the oracle the equivalence tests hold the engine to, output for output.
 */
import { redactEncoded } from '../encoded.js';
import { isExemptKey, KEY_SCAN_LIMIT, keyPartMatches, keyScanParts, normalizeKeyName } from '../key-names.js';
import {
  CIRCULAR_MARKER,
  MAX_DEPTH_MARKER,
  MAX_NODES_MARKER,
  MAX_STRING_LENGTH_MARKER,
  redactionMarker,
  onlyMarkers,
} from '../markers.js';
import {
  ASSIGNED_VALUE,
  assignedValueSpan,
  ASSIGNMENT_NAME,
  BUILT_IN_ASSIGNMENT_NAME,
  BUILT_IN_RULES,
  NON_SECRET_ASSIGNED_VALUE,
  type BuiltInRule,
} from '../rules.js';
import type { RedactionResult, RedactionRule, Redactor, RedactorOptions } from '../types.js';

interface KeyMatcher {
  name: string;
  key: RegExp;
}

interface ValueDetector {
  /** Global; with match indices (`d`) when it has a `secret` group to locate. */
  pattern: RegExp;
  /** The rule to credit for replacing `secret`, or undefined to keep it. */
  ruleFor: (secret: string, match: RegExpExecArray) => string | undefined;
  /** How many leading characters of `secret` to replace, when not all of them. */
  measure?: (secret: string) => number;
}

/** State of one call: what was replaced, how many values were visited, which objects enclose us. */
interface Pass {
  count: number;
  byRule: Record<string, number>;
  nodes: number;
  /** Whether the output differs from the input anywhere (replacements or limit markers). */
  changed: boolean;
  ancestors: Set<object>;
}

const KEY_CLASSIFICATION_CACHE_SIZE = 4096;
/**
 * JSON documents up to this length are parsed whole before the length cut, so their keys still name
 * the secrets under them; longer ones are scanned as text. Parsing is linear, and the walk stops at maxNodes.
 */
const MAX_JSON_DOCUMENT_LENGTH = 256 * 1024;
/**
 * Text past the cut scanned with the head that is kept, so a secret that crosses the cut is replaced
 * whole: longer than any built-in value match (the longest, a JWT, is under 37 000 characters).
 */
const CUT_LOOKAHEAD = 64 * 1024;
/** How far back a cut may move to avoid leaving the head of a token (possibly a secret) behind. */
const CUT_BACKOFF_LIMIT = 512;
const TOKEN_CHARACTER = /[A-Za-z0-9_+/=.~-]/;

/** Rule names become markers and metric labels: keep them lowercase snake_case whatever users pass. */
const ruleName = (name: string): string =>
  name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 64) || 'custom';

const withFlags = (pattern: RegExp, add: string, remove: string): RegExp => {
  const flags = new Set([...pattern.flags].filter((flag) => !remove.includes(flag)));
  for (const flag of add) flags.add(flag);
  return new RegExp(pattern.source, [...flags].join(''));
};

const JWK_PRIVATE_MEMBERS = new Set(['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']);
const JWK_RULE = 'jwk_private_key';

const isJsonWebKey = (entries: Record<string, unknown>): boolean => {
  try {
    return typeof entries.kty === 'string';
  } catch {
    return false;
  }
};

/** A value under a secret key worth replacing: flags, nulls, empties and earlier markers say nothing. */
const holdsSecret = (value: unknown): boolean => {
  if (value === null || value === undefined || typeof value === 'boolean') return false;
  if (typeof value === 'string') return value.length > 0 && !onlyMarkers(value);
  return true;
};

const looksLikeJsonDocument = (text: string): boolean => {
  const first = text.trimStart()[0];
  return first === '{' || first === '[';
};

/** Cuts `text` to at most `length` characters, and never in the middle of a token. */
const cutAtTokenBoundary = (text: string, length: number): string => {
  if (text.length <= length) return text;
  let end = length;
  const cutsToken =
    end > 0 && TOKEN_CHARACTER.test(text[end - 1] ?? '') && TOKEN_CHARACTER.test(text[end] ?? '');
  if (cutsToken) {
    const floor = Math.max(0, length - CUT_BACKOFF_LIMIT);
    while (end > floor && TOKEN_CHARACTER.test(text[end - 1] ?? '')) end--;
  }
  return text.slice(0, end);
};

/** What JSON.stringify would write for `value`: its toJSON result (Dates, Buffers, URLs), else itself. */
const serialisedForm = (value: object): unknown => {
  try {
    const toJSON: unknown = (value as { toJSON?: unknown }).toJSON;
    return typeof toJSON === 'function' ? (toJSON.call(value) as unknown) : value;
  } catch {
    return value;
  }
};

/** A property read that cannot throw into the caller (getters, proxies). */
const readEntry = (entries: Record<string, unknown>, key: string): unknown => {
  try {
    return entries[key];
  } catch {
    return undefined;
  }
};

const defineEntry = (target: Record<string, unknown>, key: string, value: unknown): void => {
  // defineProperty rather than assignment, so a `__proto__` key stays a plain entry.
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
};

const uniqueKey = (target: Record<string, unknown>, key: string): string => {
  if (!Object.prototype.hasOwnProperty.call(target, key)) return key;
  let suffix = 2;
  while (Object.prototype.hasOwnProperty.call(target, `${key}#${suffix}`)) suffix++;
  return `${key}#${suffix}`;
};

const tally = (pass: Pass, rule: string): void => {
  pass.count++;
  pass.byRule[rule] =
    (Object.prototype.hasOwnProperty.call(pass.byRule, rule) ? (pass.byRule[rule] ?? 0) : 0) + 1;
  pass.changed = true;
};

export const createReferenceRedactor = ({
  rules = [],
  maxStringLength = 4096,
  maxDepth = 16,
  maxNodes = 10_000,
}: RedactorOptions = {}): Redactor => {
  const allRules: readonly BuiltInRule[] = [...BUILT_IN_RULES, ...rules];

  const keyMatchers: KeyMatcher[] = allRules.flatMap((rule) =>
    rule.key ? [{ name: ruleName(rule.name), key: withFlags(rule.key, '', 'gy') }] : [],
  );
  const keyClassifications = new Map<string, string | null>();

  /** The key rule a key or attribute name falls under, if any. */
  const classifyKey = (key: string): string | undefined => {
    const cached = keyClassifications.get(key);
    if (cached !== undefined) return cached ?? undefined;
    let found: string | null = null;
    for (const part of keyScanParts(key)) {
      const normalized = normalizeKeyName(part);
      if (isExemptKey(key, normalized)) break;
      found = keyMatchers.find((matcher) => keyPartMatches(matcher.key, part, normalized))?.name ?? null;
      if (found !== null) break;
    }
    // Long keys are rare: only keys up to the scanned length are remembered.
    if (key.length <= KEY_SCAN_LIMIT) {
      if (keyClassifications.size >= KEY_CLASSIFICATION_CACHE_SIZE) keyClassifications.clear();
      keyClassifications.set(key, found);
    }
    return found ?? undefined;
  };

  const valueDetector = (rule: BuiltInRule & { value: RegExp }): ValueDetector => {
    const name = ruleName(rule.name);
    const { accept, measure } = rule;
    return {
      // Match indices cost an allocation per match: only patterns with a `secret` group need them.
      pattern: withFlags(rule.value, /\(\?<secret>/.test(rule.value.source) ? 'gd' : 'g', 'y'),
      ruleFor: (secret, match) => (accept === undefined || accept(secret, match) ? name : undefined),
      ...(measure === undefined ? {} : { measure }),
    };
  };
  const hasValue = (rule: RedactionRule): rule is BuiltInRule & { value: RegExp } => rule.value !== undefined;

  const replaceMatches = (text: string, detector: ValueDetector, pass: Pass): string => {
    const { pattern } = detector;
    pattern.lastIndex = 0;
    let output = '';
    let copiedUpTo = 0;
    let replaced = false;
    for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
      const span = match.indices?.groups?.secret;
      const start = span?.[0] ?? match.index;
      let end = span?.[1] ?? match.index + match[0].length;
      if (detector.measure !== undefined && end > start) {
        end = start + detector.measure(text.slice(start, end));
        pattern.lastIndex = Math.max(end, match.index + 1);
      }
      const secret = text.slice(start, end);
      const rule = end > start && !onlyMarkers(secret) ? detector.ruleFor(secret, match) : undefined;
      if (rule === undefined) {
        // Look again one character later: the rejected match may hide a real one.
        pattern.lastIndex = match.index + 1;
        continue;
      }
      output += text.slice(copiedUpTo, start) + redactionMarker(rule);
      copiedUpTo = end;
      replaced = true;
      tally(pass, rule);
    }
    return replaced ? output + text.slice(copiedUpTo) : text;
  };

  const userKeyRules = rules.some((rule) => rule.key !== undefined);
  const assignmentName = withFlags(userKeyRules ? ASSIGNMENT_NAME : BUILT_IN_ASSIGNMENT_NAME, 'g', 'y');
  const assignedValue = withFlags(ASSIGNED_VALUE, 'yd', 'g');

  /** `name=value` pairs in text whose name a key rule claims. */
  const replaceAssignments = (text: string, pass: Pass): string => {
    assignmentName.lastIndex = 0;
    let output = '';
    let copiedUpTo = 0;
    let replaced = false;
    for (let match = assignmentName.exec(text); match !== null; match = assignmentName.exec(text)) {
      // A rejected name leaves the search after its separator: the value may hold the next pair.
      const rule = classifyKey(match[1] ?? '');
      if (rule === undefined) continue;
      assignedValue.lastIndex = assignmentName.lastIndex;
      const value = assignedValue.exec(text);
      const span = value === null ? undefined : assignedValueSpan(text, value);
      if (span === undefined) continue;
      const [start, end] = span;
      const secret = text.slice(start, end);
      if (NON_SECRET_ASSIGNED_VALUE.test(secret) || onlyMarkers(secret)) continue;
      output += text.slice(copiedUpTo, start) + redactionMarker(rule);
      copiedUpTo = end;
      assignmentName.lastIndex = end;
      replaced = true;
      tally(pass, rule);
    }
    return replaced ? output + text.slice(copiedUpTo) : text;
  };

  const patternScanner =
    (detector: ValueDetector) =>
    (text: string, pass: Pass): string =>
      replaceMatches(text, detector, pass);
  const scanners: ReadonlyArray<(text: string, pass: Pass) => string> = [
    ...BUILT_IN_RULES.filter(hasValue).map(valueDetector).map(patternScanner),
    replaceAssignments,
    ...rules.filter(hasValue).map(valueDetector).map(patternScanner),
  ];

  const scanDecoded = (decoded: string, pass: Pass): { text: string; rule: string | undefined } => {
    const before = { ...pass.byRule };
    const text = scanners.reduce((current, scanner) => scanner(current, pass), decoded);
    const rule = Object.keys(pass.byRule).find((name) => (pass.byRule[name] ?? 0) > (before[name] ?? 0));
    return { text, rule };
  };
  const scanText = (text: string, pass: Pass): string =>
    redactEncoded(
      scanners.reduce((current, scanner) => scanner(current, pass), text),
      (decoded) => scanDecoded(decoded, pass),
    );

  /**
   * Strings: structurally redacted when they hold JSON, else scanned with some text past the cut so
   * a secret across it is found whole; only then cut to the length budget.
   */
  const redactText = (text: string, depth: number, pass: Pass, parseJson: boolean): string => {
    const room = Math.max(0, maxStringLength - MAX_STRING_LENGTH_MARKER.length);
    const structured =
      parseJson && text.length <= MAX_JSON_DOCUMENT_LENGTH
        ? redactJsonDocument(text, depth, pass)
        : undefined;
    const cut = text.length > maxStringLength;
    const working = structured ?? scanText(cut ? cutAtTokenBoundary(text, room + CUT_LOOKAHEAD) : text, pass);
    if (cut || working.length > maxStringLength) {
      pass.changed = true;
      return cutAtTokenBoundary(working, room) + MAX_STRING_LENGTH_MARKER;
    }
    return working;
  };

  /** A JSON document inside a string, redacted as structure; undefined when the string is not one. */
  const redactJsonDocument = (text: string, depth: number, pass: Pass): string | undefined => {
    if (!looksLikeJsonDocument(text)) return undefined;
    let document: unknown;
    try {
      document = JSON.parse(text);
    } catch {
      return undefined;
    }
    const changedBefore = pass.changed;
    pass.changed = false;
    const redacted = redactNode(document, depth, pass);
    const changed = pass.changed;
    pass.changed = changedBefore || changed;
    // Untouched documents keep their original spelling (whitespace, key order, escapes).
    return changed ? JSON.stringify(redacted) : text;
  };

  const redactNode = (value: unknown, depth: number, pass: Pass): unknown => {
    pass.nodes++;
    if (pass.nodes > maxNodes) {
      pass.changed = true;
      return MAX_NODES_MARKER;
    }
    switch (typeof value) {
      case 'string':
        return redactText(value, depth, pass, true);
      case 'bigint':
        return value.toString();
      case 'symbol':
      case 'function':
        return undefined;
      case 'object':
        break;
      default:
        return value;
    }
    if (value === null) return null;
    if (pass.ancestors.has(value)) {
      pass.changed = true;
      return CIRCULAR_MARKER;
    }
    const serialised = serialisedForm(value);
    if (serialised !== value) {
      // One level deeper, so objects whose toJSON returns fresh objects still meet maxDepth.
      pass.ancestors.add(value);
      try {
        return redactNode(serialised, depth + 1, pass);
      } finally {
        pass.ancestors.delete(value);
      }
    }
    if (depth >= maxDepth) {
      pass.changed = true;
      return MAX_DEPTH_MARKER;
    }
    pass.ancestors.add(value);
    try {
      return Array.isArray(value)
        ? redactArray(value, depth, pass)
        : redactObject(value as Record<string, unknown>, depth, pass);
    } finally {
      pass.ancestors.delete(value);
    }
  };

  const redactArray = (items: readonly unknown[], depth: number, pass: Pass): unknown[] => {
    const output: unknown[] = [];
    for (const item of items) {
      if (pass.nodes >= maxNodes) {
        pass.changed = true;
        output.push(MAX_NODES_MARKER);
        break;
      }
      output.push(redactNode(item, depth + 1, pass));
    }
    return output;
  };

  const redactObject = (
    entries: Record<string, unknown>,
    depth: number,
    pass: Pass,
  ): Record<string, unknown> => {
    const output: Record<string, unknown> = {};
    const jwk = isJsonWebKey(entries);
    for (const key of Object.keys(entries)) {
      if (pass.nodes >= maxNodes) {
        pass.changed = true;
        defineEntry(output, uniqueKey(output, MAX_NODES_MARKER), MAX_NODES_MARKER);
        break;
      }
      const child = readEntry(entries, key);
      const outputKey = uniqueKey(output, redactText(key, depth, pass, false));
      const rule = classifyKey(key) ?? (jwk && JWK_PRIVATE_MEMBERS.has(key) ? JWK_RULE : undefined);
      if (rule !== undefined && holdsSecret(child)) {
        pass.nodes++;
        tally(pass, rule);
        defineEntry(output, outputKey, redactionMarker(rule));
      } else {
        defineEntry(output, outputKey, redactNode(child, depth + 1, pass));
      }
    }
    return output;
  };

  const newPass = (): Pass => ({ count: 0, byRule: {}, nodes: 0, changed: false, ancestors: new Set() });
  const result = <T>(value: T, pass: Pass): RedactionResult<T> => ({
    value,
    count: pass.count,
    byRule: pass.byRule,
  });

  return {
    redactValue: function redactValue(value) {
      const pass = newPass();
      return result(redactNode(value, 0, pass), pass);
    },
    redactString: function redactString(value) {
      const pass = newPass();
      return result(redactText(value, 0, pass, true), pass);
    },
    redactAttributes: function redactAttributes(attributes) {
      const pass = newPass();
      pass.ancestors.add(attributes);
      return result(redactObject(attributes, 0, pass), pass);
    },
  };
};
