import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRedactor } from './index.js';
import { FORMAT_NAMES, fakeSecret, seededRandom, type FakeSecret } from './test-support/fake-secrets.js';

const redactor = createRedactor();

const secretArbitrary: fc.Arbitrary<FakeSecret> = fc
  .tuple(fc.constantFrom(...FORMAT_NAMES), fc.integer())
  .map(([format, seed]) => fakeSecret(format, seededRandom(seed)));

/** Secrets sit in text between word breaks; glued to other characters they would be a different token. */
const separator = fc.constantFrom(' ', '\n', '\t', ' | ', ', ', ': ', ' (', '\n  - ');
const padding = fc.string({ maxLength: 24 });

const textAround = (secret: FakeSecret): fc.Arbitrary<string> =>
  fc
    .tuple(padding, separator, separator, padding)
    .map(
      ([before, open, close, after]) => `${before}${open}${secret.text}${close.replace('(', ')')}${after}`,
    );

/** Puts `item` somewhere inside `host`, following `path` (each step picks a position). */
const embed = (host: unknown, item: unknown, path: readonly number[]): unknown => {
  const [step, ...rest] = path;
  if (step === undefined) return item;
  if (Array.isArray(host)) {
    const index = step % (host.length + 1);
    const copy: unknown[] = [...host];
    copy.splice(index, 0, embed(host[index] ?? null, item, rest));
    return copy;
  }
  if (host !== null && typeof host === 'object') {
    const keys = Object.keys(host);
    const key = keys[step % (keys.length + 1)] ?? `field_${step}`;
    return { ...host, [key]: embed((host as Record<string, unknown>)[key] ?? null, item, rest) };
  }
  return step % 2 === 0 ? [host, embed(null, item, rest)] : { value: host, nested: embed(null, item, rest) };
};

const json = fc.jsonValue({ maxDepth: 3 });
const path = fc.array(fc.nat(), { maxLength: 4 });

/** A secret in text, in a key, or in a JSON document held by a string, anywhere in random JSON. */
const documentWithSecret = secretArbitrary.chain((secret) => {
  const inText = textAround(secret);
  const asKey = fc.tuple(json).map(([value]) => ({ [secret.text]: value }));
  const inJsonString = fc
    .tuple(json, inText, path)
    .map(([host, text, inner]) => JSON.stringify(embed(host, text, inner)));
  const item = fc.oneof(inText, asKey, inJsonString);
  return fc
    .tuple(json, item, path)
    .map(([host, placed, outer]) => ({ secret, document: embed(host, placed, outer) }));
});

const deepFreeze = <T>(value: T): T => {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
};

describe('redaction properties', () => {
  it('never lets a secret through, wherever it sits', () => {
    fc.assert(
      fc.property(documentWithSecret, ({ secret, document }) => {
        const result = redactor.redactValue(document);
        const output = JSON.stringify(result.value);
        for (const needle of secret.needles) expect(output).not.toContain(needle);
        expect(result.count).toBeGreaterThan(0);
        expect(Object.values(result.byRule).reduce((sum, count) => sum + count, 0)).toBe(result.count);
      }),
      { numRuns: 500 },
    );
  });

  it('never mutates its input', () => {
    fc.assert(
      fc.property(documentWithSecret, ({ document }) => {
        const before = structuredClone(document);
        // Frozen input: any write would throw in strict-mode code.
        const frozen = deepFreeze(document);
        redactor.redactValue(frozen);
        expect(frozen).toEqual(before);
      }),
    );
  });

  it('is idempotent: a second pass changes nothing and counts nothing', () => {
    fc.assert(
      fc.property(documentWithSecret, ({ document }) => {
        const once = redactor.redactValue(document);
        const twice = redactor.redactValue(once.value);
        expect(twice.value).toEqual(once.value);
        expect(twice.count).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('always returns something JSON can serialise, whatever it is given', () => {
    const anything = fc.anything({
      withBigInt: true,
      withDate: true,
      withMap: true,
      withSet: true,
      withTypedArray: true,
      withSparseArray: true,
      withNullPrototype: true,
      withBoxedValues: true,
      maxDepth: 4,
    });
    fc.assert(
      fc.property(anything, (value) => {
        const { value: output } = redactor.redactValue(value);
        const serialised = JSON.stringify(output);
        if (serialised !== undefined) expect(() => JSON.parse(serialised) as unknown).not.toThrow();
      }),
      { numRuns: 300 },
    );
  });

  it('returns plain JSON unchanged when it holds no secret-shaped text', () => {
    const harmless = fc
      .jsonValue({ maxDepth: 3 })
      .filter((value) => !/[:=]|[A-Za-z0-9]{8}/.test(JSON.stringify(value)));
    fc.assert(
      fc.property(harmless, (value) => {
        expect(redactor.redactValue(value)).toEqual({ value, count: 0, byRule: {} });
      }),
    );
  });
});
