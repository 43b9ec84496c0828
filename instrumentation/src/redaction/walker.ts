/** The walker: visits a value once, within the depth, node and length budgets, and applies the rules. */
import { redactEncoded } from './encoded.js';
import { isExemptKey, KEY_SCAN_LIMIT, keyPartMatches, keyScanParts, normalizeKeyName } from './key-names.js';
import {
  CIRCULAR_MARKER,
  MAX_DEPTH_MARKER,
  MAX_NODES_MARKER,
  MAX_STRING_LENGTH_MARKER,
  onlyMarkers,
  redactionMarker,
} from './markers.js';
import {
  admits,
  ANY_ASSIGNMENT_PREFILTER,
  BUILT_IN_ASSIGNMENT_PREFILTER,
  compilePrefilter,
  emptyFacts,
  gatherFacts,
  VALUE_RULE_PREFILTERS,
  type CompiledPrefilter,
} from './prefilter.js';
import {
  ASSIGNED_VALUE,
  assignedValueSpan,
  ASSIGNMENT_NAME,
  BUILT_IN_ASSIGNMENT_NAME,
  BUILT_IN_RULES,
  NON_SECRET_ASSIGNED_VALUE,
  type BuiltInRule,
} from './rules.js';
import type { RedactionResult, RedactionRule, Redactor, RedactorOptions } from './types.js';

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
  /** A necessary condition for `pattern` to match; undefined for user rules, which always run. */
  prefilter: CompiledPrefilter | undefined;
}

interface Scanner {
  scan: (text: string, pass: Pass) => string;
  prefilter: CompiledPrefilter | undefined;
}

/** State of one call: what was replaced, how many values were visited, which objects enclose us. */
interface Pass {
  count: number;
  byRule: Record<string, number>;
  nodes: number;
  /** Whether the output differs from the input anywhere (replacements or limit markers). */
  changed: boolean;
  /** The enclosing objects, outermost first: searched in place while few, in a set past `SHALLOW_ANCESTORS`. */
  ancestors: object[];
  deepAncestors: Set<object> | undefined;
}

/** Nesting is shallow (maxDepth is 16 by default): a short array beats a set, and a set keeps deep walks linear. */
const SHALLOW_ANCESTORS = 32;
const KEY_CLASSIFICATION_CACHE_SIZE = 4096;
/** Short strings found clean are remembered: keys and enum-like values repeat from call to call. */
const CLEAN_CACHE_SLOTS = 4096;
const CLEAN_CACHE_MAX_LENGTH = 128;

/**
 * A slot for `text` from its length and four of its characters: no pass over the string, so a
 * string seen once (an id, a timestamp) costs next to nothing to look up and store.
 */
const cleanCacheSlot = (text: string): number => {
  const { length } = text;
  const mixed =
    length * 31 +
    text.charCodeAt(0) * 1013 +
    text.charCodeAt(length >> 2) * 127 +
    text.charCodeAt(length >> 1) * 17 +
    text.charCodeAt(length - 1);
  return mixed & (CLEAN_CACHE_SLOTS - 1);
};
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

/** Members of a JSON Web Key that hold private key material (RFC 7518): `d`, the CRT values, `k`. */
const JWK_PRIVATE_MEMBERS = new Set(['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']);
const JWK_RULE = 'jwk_private_key';

/** An object with a `kty` string is a JSON Web Key, whose one-letter members are key material. */
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

const setEntry = (target: Record<string, unknown>, key: string, value: unknown): void => {
  // Names Object.prototype answers to are defined: assigning `__proto__` sets the prototype, and
  // assigning `toString` throws where intrinsics are frozen. Every other key is a plain assignment.
  if (key in Object.prototype) {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
};

const uniqueKey = (target: Record<string, unknown>, key: string): string => {
  if (!Object.prototype.hasOwnProperty.call(target, key)) return key;
  let suffix = 2;
  while (Object.prototype.hasOwnProperty.call(target, `${key}#${suffix}`)) suffix++;
  return `${key}#${suffix}`;
};

/** The prefilter of a built-in value rule; a rule without one always runs. */
const prefilterFor = (name: string): CompiledPrefilter | undefined => {
  const prefilter = Object.prototype.hasOwnProperty.call(VALUE_RULE_PREFILTERS, name)
    ? VALUE_RULE_PREFILTERS[name]
    : undefined;
  return prefilter === undefined ? undefined : compilePrefilter(prefilter);
};

const encloses = (pass: Pass, value: object): boolean => {
  const { ancestors } = pass;
  const shallow = Math.min(ancestors.length, SHALLOW_ANCESTORS);
  for (let index = 0; index < shallow; index++) if (ancestors[index] === value) return true;
  return pass.deepAncestors?.has(value) ?? false;
};

const enter = (pass: Pass, value: object): void => {
  if (pass.ancestors.push(value) > SHALLOW_ANCESTORS) (pass.deepAncestors ??= new Set()).add(value);
};

const leave = (pass: Pass): void => {
  const value = pass.ancestors.pop();
  if (value !== undefined && pass.ancestors.length >= SHALLOW_ANCESTORS) pass.deepAncestors?.delete(value);
};

const tally = (pass: Pass, rule: string): void => {
  pass.count++;
  pass.byRule[rule] =
    (Object.prototype.hasOwnProperty.call(pass.byRule, rule) ? (pass.byRule[rule] ?? 0) : 0) + 1;
  pass.changed = true;
};

export const createRedactor = ({
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

  const valueDetector = (rule: BuiltInRule & { value: RegExp }, builtIn: boolean): ValueDetector => {
    const name = ruleName(rule.name);
    const { accept, measure } = rule;
    return {
      // Match indices cost an allocation per match: only patterns with a `secret` group need them.
      pattern: withFlags(rule.value, /\(\?<secret>/.test(rule.value.source) ? 'gd' : 'g', 'y'),
      ruleFor: (secret, match) => (accept === undefined || accept(secret, match) ? name : undefined),
      ...(measure === undefined ? {} : { measure }),
      prefilter: builtIn ? prefilterFor(rule.name) : undefined,
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

  const patternScanner = (detector: ValueDetector): Scanner => ({
    scan: (text, pass) => replaceMatches(text, detector, pass),
    prefilter: detector.prefilter,
  });
  const scanners: readonly Scanner[] = [
    ...BUILT_IN_RULES.filter(hasValue)
      .map((rule) => valueDetector(rule, true))
      .map(patternScanner),
    {
      scan: replaceAssignments,
      prefilter: compilePrefilter(userKeyRules ? ANY_ASSIGNMENT_PREFILTER : BUILT_IN_ASSIGNMENT_PREFILTER),
    },
    ...rules
      .filter(hasValue)
      .map((rule) => valueDetector(rule, false))
      .map(patternScanner),
  ];

  // Scratch space for what is known of the text being scanned; scans never nest.
  const facts = emptyFacts();

  // Short texts a scan left unchanged, one per slot, the newest winning: only clean ones, so no
  // secret is kept past its call, and a text is only ever found by being equal to the one stored.
  const cleanTexts: Array<string | undefined> = new Array<string | undefined>(CLEAN_CACHE_SLOTS).fill(
    undefined,
  );

  /** Every scanner in order, each over the previous one's output, skipping those whose prefilter rules them out. */
  const runScanners = (text: string, pass: Pass): string => {
    let current = text;
    let measured = false;
    for (const { scan, prefilter } of scanners) {
      if (prefilter !== undefined) {
        if (!measured) {
          gatherFacts(current, facts);
          measured = true;
        }
        if (!admits(prefilter, facts)) continue;
      }
      const scanned = scan(current, pass);
      if (scanned !== current) {
        // A replacement changes the text later scanners see: measure it again.
        current = scanned;
        measured = false;
      }
    }
    return current;
  };

  /** The scanners over a text, then over what its encoded runs decode to. */
  const scanText = (text: string, pass: Pass): string => {
    const slot = text.length > 0 && text.length <= CLEAN_CACHE_MAX_LENGTH ? cleanCacheSlot(text) : -1;
    if (slot >= 0 && cleanTexts[slot] === text) return text;
    const countBefore = pass.count;
    const current = redactEncoded(runScanners(text, pass), (decoded) => scanDecoded(decoded, pass));
    // Nothing replaced means the text came back as it went in; scanning it again would too.
    if (slot >= 0 && pass.count === countBefore) cleanTexts[slot] = text;
    return current;
  };

  /** A decoded run through the same scanners, once: what it decodes to is not decoded again. */
  const scanDecoded = (decoded: string, pass: Pass): { text: string; rule: string | undefined } => {
    const before = { ...pass.byRule };
    const current = runScanners(decoded, pass);
    const rule = Object.keys(pass.byRule).find((name) => (pass.byRule[name] ?? 0) > (before[name] ?? 0));
    return { text: current, rule };
  };

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
    if (encloses(pass, value)) {
      pass.changed = true;
      return CIRCULAR_MARKER;
    }
    const serialised = serialisedForm(value);
    if (serialised !== value) {
      // One level deeper, so objects whose toJSON returns fresh objects still meet maxDepth.
      enter(pass, value);
      try {
        return redactNode(serialised, depth + 1, pass);
      } finally {
        leave(pass);
      }
    }
    if (depth >= maxDepth) {
      pass.changed = true;
      return MAX_DEPTH_MARKER;
    }
    enter(pass, value);
    try {
      return Array.isArray(value)
        ? redactArray(value, depth, pass)
        : redactObject(value as Record<string, unknown>, depth, pass);
    } finally {
      leave(pass);
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
    // Input keys are distinct: only once one was renamed can a later one collide with an earlier entry.
    let renamed = false;
    const jwk = isJsonWebKey(entries);
    for (const key of Object.keys(entries)) {
      if (pass.nodes >= maxNodes) {
        pass.changed = true;
        setEntry(output, uniqueKey(output, MAX_NODES_MARKER), MAX_NODES_MARKER);
        break;
      }
      const child = readEntry(entries, key);
      const redactedKey = redactText(key, depth, pass, false);
      if (redactedKey !== key) renamed = true;
      const outputKey = renamed ? uniqueKey(output, redactedKey) : redactedKey;
      const rule = classifyKey(key) ?? (jwk && JWK_PRIVATE_MEMBERS.has(key) ? JWK_RULE : undefined);
      if (rule !== undefined && holdsSecret(child)) {
        pass.nodes++;
        tally(pass, rule);
        setEntry(output, outputKey, redactionMarker(rule));
      } else {
        setEntry(output, outputKey, redactNode(child, depth + 1, pass));
      }
    }
    return output;
  };

  const newPass = (): Pass => ({
    count: 0,
    byRule: {},
    nodes: 0,
    changed: false,
    ancestors: [],
    deepAncestors: undefined,
  });
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
      enter(pass, attributes);
      return result(redactObject(attributes, 0, pass), pass);
    },
  };
};
