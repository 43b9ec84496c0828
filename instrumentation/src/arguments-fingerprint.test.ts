import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, createArgumentsFingerprinter } from './arguments-fingerprint.js';

/** The definition: a copy with keys sorted at every depth, arrays marked once met, then JSON.stringify. */
const sortedCopyJson = (value: unknown): string => {
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

const smallArguments = { region: 'eu-west-1', limit: 25 };
const nestedArguments = {
  workspace: 'payments-prod',
  requestedBy: 'agent:release-bot',
  dryRun: true,
  changes: [0, 1, 2].map((index) => ({
    resource: `aws_instance.api_${index}`,
    attributes: { tags: { team: 'payments', shard: String(index) }, groups: ['sg-0aa1', 'sg-0ee5'] },
  })),
  database: { url: 'postgres://deployer:s3cr3t@db.internal.example:5432/payments', max: 400 },
};

describe('argument fingerprints', () => {
  // Values computed before the one-pass writer existed: a key and arguments keep their fingerprint.
  it.each([
    ['small arguments', smallArguments, '9064f6978d8248a754c15b7c9998213e'],
    ['nested arguments', nestedArguments, '03b48156ef1c64307067e4809c36d909'],
    ['no arguments', undefined, 'fb6c2abb0f79f4e51257b478822a1722'],
    ['an empty object', {}, 'fb6c2abb0f79f4e51257b478822a1722'],
    [
      'keys that JSON.stringify orders apart, escapes and unicode',
      { b: [1, { d: 'é\u2028', c: null }], a: 'x"y', '10': 1, '2': 2, __proto__x: 0 },
      '183479ad000a51d93f1bdb3326df53c6',
    ],
  ])('%s keep their fingerprint for a given key', (_label, args, expected) => {
    expect(createArgumentsFingerprinter('mcpscope-test-key')(args)).toBe(expected);
  });

  it('equal arguments in any key order fingerprint alike; different ones do not', () => {
    const fingerprint = createArgumentsFingerprinter('k');
    const reordered = JSON.parse(JSON.stringify(nestedArguments, Object.keys(nestedArguments).reverse()));
    expect(fingerprint({ ...nestedArguments })).toBe(fingerprint(nestedArguments));
    expect(fingerprint({ limit: 25, region: 'eu-west-1' })).toBe(fingerprint(smallArguments));
    expect(fingerprint(reordered)).not.toBe(fingerprint(smallArguments));
    expect(fingerprint({ ...smallArguments, limit: 26 })).not.toBe(fingerprint(smallArguments));
  });
  it('is HMAC-SHA256 of the canonical arguments, whatever the key', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ minLength: 1, maxLength: 80 }), fc.string({ unit: 'binary', minLength: 1 })),
        fc.jsonValue({ maxDepth: 3 }),
        (key, args) => {
          const expected = createHmac('sha256', Buffer.from(key, 'utf8'))
            .update(canonicalJson(args ?? {}))
            .digest('hex')
            .slice(0, 32);
          expect(createArgumentsFingerprinter(key)(args)).toBe(expected);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('gives each process its own key when none is configured', () => {
    expect(createArgumentsFingerprinter(undefined)(smallArguments)).not.toBe(
      createArgumentsFingerprinter(undefined)(smallArguments),
    );
  });
});

describe('canonicalJson', () => {
  it('writes what the sorted copy writes, for any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
        expect(canonicalJson(value)).toBe(sortedCopyJson(value));
      }),
      { numRuns: 2000 },
    );
  });

  it('writes what the sorted copy writes, for anything else a caller may pass', () => {
    fc.assert(
      fc.property(
        fc.anything({
          maxDepth: 4,
          withBigInt: true,
          withDate: true,
          withMap: true,
          withSet: true,
          withTypedArray: true,
          withSparseArray: true,
          withNullPrototype: true,
          withObjectString: true,
          withBoxedValues: true,
        }),
        (value) => {
          expect(canonicalJson(value)).toBe(sortedCopyJson(value));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('keeps the marks of shared arrays and cycles, and the special keys', () => {
    const shared = [1, 2];
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    const odd = [
      { x: shared, y: shared },
      { outer: { inner: shared }, again: [shared] },
      cyclic,
      [cyclic, cyclic],
      JSON.parse('{"__proto__": {"a": 1}, "b": 2}'),
      { toJSON: () => 'replaced', a: 1 },
      { toJSON: 'not a function', a: 1 },
      { '1': 'one', '01': 'zero-one', '-1': 'minus', a: 'a' },
      { when: new Date(0), missing: undefined, fn: () => 1, big: 10n },
      [undefined, () => 1, Symbol('s'), Number.NaN, -0, Infinity],
      Object.assign(Object.create(null) as object, { b: 1, a: 2 }),
      { text: 'line\nbreak "quoted" \\ back \u0000 \ud83d\ude00 lone \udc00' },
    ];
    for (const value of odd) expect(canonicalJson(value)).toBe(sortedCopyJson(value));
  });
});
