import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRedactor, type RedactionResult, type RedactorOptions } from './index.js';
import { FORMAT_NAMES, fakeSecret, seededRandom } from './test-support/fake-secrets.js';
import { createReferenceRedactor } from './test-support/reference-walker.js';

/**
 * The engine skips scanners its prefilters rule out, remembers clean strings and writes entries more
 * cheaply; none of that may change a single output. Each engine here lives through the whole file,
 * so its caches carry over from one input to the next, as they do in a collector.
 */
const OPTION_SETS: Readonly<Record<string, RedactorOptions>> = {
  defaults: {},
  'short strings': { maxStringLength: 48 },
  'shallow and small': { maxDepth: 3, maxNodes: 40 },
  'user rules': {
    rules: [
      { name: 'Ticket Secret', value: /TKT-[0-9]{6}-[A-Z]{4}/ },
      { name: 'pin', key: /^pin$/i },
      { name: 'constructor', value: /zz[a-z]{3}zz/ },
    ],
  },
};

const engines = Object.entries(OPTION_SETS).map(([name, options]) => ({
  name,
  engine: createRedactor(options),
  reference: createReferenceRedactor(options),
}));

/** Same value, same counts, same rule tallies in the same order, same key order everywhere. */
const expectSame = (
  actual: RedactionResult<unknown>,
  expected: RedactionResult<unknown>,
  options = 'defaults',
): void => {
  expect(actual, options).toStrictEqual(expected);
  expect(JSON.stringify(actual.value), options).toBe(JSON.stringify(expected.value));
  expect(Object.keys(actual.byRule), options).toEqual(Object.keys(expected.byRule));
};

const expectSameEverywhere = (value: unknown): void => {
  for (const { name, engine, reference } of engines) {
    const expected = reference.redactValue(value);
    // Twice: the second call meets whatever the first one cached.
    for (let round = 0; round < 2; round++) {
      expectSame(engine.redactValue(value), expected, name);
    }
    if (typeof value === 'string')
      expectSame(engine.redactString(value), reference.redactString(value), name);
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const attributes = value as Record<string, unknown>;
      expectSame(engine.redactAttributes(attributes), reference.redactAttributes(attributes), name);
    }
  }
};

const random = seededRandom(424_242);
const secrets = FORMAT_NAMES.flatMap((format) =>
  Array.from({ length: 3 }, () => fakeSecret(format, random).text),
);

const editedSecret = fc
  .tuple(fc.constantFrom(...secrets), fc.nat(), fc.nat(3), fc.string({ maxLength: 4 }))
  .map(([text, at, cut, insert]) => {
    const position = at % (text.length + 1);
    return text.slice(0, position) + insert + text.slice(position + cut);
  });

const secretish = fc.oneof(fc.constantFrom(...secrets), editedSecret);

const textWithSecrets = fc
  .array(
    fc.oneof(
      secretish,
      fc.constantFrom(
        ' ',
        '\n',
        ', ',
        ' password=',
        ' "token": "',
        '://u:',
        '@',
        ' Bearer ',
        'TKT-123456-ABCD',
        ' pin=4821',
      ),
      fc.string({ maxLength: 12 }),
    ),
    { maxLength: 6 },
  )
  .map((parts) => parts.join(''));

const KEYS = [
  'region',
  'password',
  'apiKey',
  'note',
  'http.request.header.authorization',
  'gen_ai.usage.input_tokens',
  'mcpscope.task.id',
  'pin',
  '__proto__',
  '[REDACTED:github_token]',
  '[REDACTED:github_token]#2',
  `ghp_${'Ab1'.repeat(12)}`,
  `ghp_${'Cd2'.repeat(12)}`,
];

const key = fc.oneof(fc.constantFrom(...KEYS), secretish, fc.string({ maxLength: 8 }));

const documents = fc.letrec<{ node: unknown }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    textWithSecrets,
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    textWithSecrets.map((text) => JSON.stringify({ nested: text, password: text.slice(0, 5) })),
    fc.array(tie('node'), { maxLength: 5 }),
    fc.array(fc.tuple(key, tie('node')), { maxLength: 6 }).map((entries) => {
      const object: Record<string, unknown> = {};
      for (const [name, child] of entries) {
        Object.defineProperty(object, name, {
          value: child,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return object;
    }),
  ),
})).node;

describe('the engine and the reference walker agree', () => {
  it('on documents with secrets, edited secrets and secrets as keys, under every option set', () => {
    fc.assert(fc.property(documents, expectSameEverywhere), { numRuns: 1500 });
  });

  it('on text alone', () => {
    fc.assert(fc.property(textWithSecrets, expectSameEverywhere), { numRuns: 1500 });
    fc.assert(fc.property(fc.string({ maxLength: 200 }), expectSameEverywhere), { numRuns: 500 });
  });

  it('on anything at all: maps, dates, sparse arrays, null prototypes, big integers', () => {
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
    fc.assert(fc.property(anything, expectSameEverywhere), { numRuns: 500 });
  });

  it('on renamed keys that collide with later ones, in either order', () => {
    const token = `ghp_${'Ab1'.repeat(12)}`;
    expectSameEverywhere({ [token]: 1, '[REDACTED:github_token]': 2, '[REDACTED:github_token]#2': 3 });
    expectSameEverywhere({ '[REDACTED:github_token]': 1, [token]: 2 });
    expectSameEverywhere(JSON.parse('{"__proto__": {"password": "hunter2"}, "a": 1}'));
    // Names Object.prototype holds (`constructor` stays a string: the matcher compares it as the type).
    expectSameEverywhere({
      toString: 'x',
      constructor: 'y',
      hasOwnProperty: 1,
      valueOf: null,
      isPrototypeOf: { password: 'p' },
    });
  });

  it('on cycles far below the top, past the depth where enclosing objects move to a set', () => {
    const deep = createRedactor({ maxDepth: 200 });
    const reference = createReferenceRedactor({ maxDepth: 200 });
    const root: Record<string, unknown> = { name: 'root' };
    let node = root;
    const chain: Array<Record<string, unknown>> = [root];
    for (let level = 0; level < 100; level++) {
      const child: Record<string, unknown> = { level, token: level % 10 === 0 ? 'abc' : null };
      node.child = child;
      chain.push(child);
      node = child;
    }
    node.toRoot = root;
    node.toMiddle = chain[50];
    node.toNearest = chain[90];
    // Shared, not circular: siblings at depth 60 point to the same object.
    const shared = { region: 'eu-west-1' };
    Object.assign(chain[60] ?? {}, { left: shared, right: shared });
    for (let round = 0; round < 2; round++) expectSame(deep.redactValue(root), reference.redactValue(root));
    expect(JSON.stringify(deep.redactValue(root).value).match(/\[CIRCULAR\]/g)).toHaveLength(3);
  });

  it('on the corpus, inside text and long log lines', () => {
    for (const secret of secrets) {
      expectSameEverywhere(`error calling upstream with ${secret} (retrying)`);
      expectSameEverywhere(`${'2026-11-24T08:00:00Z INFO region=eu-west-1 '.repeat(40)}${secret}`);
    }
  });
});

describe('the clean-string cache', () => {
  it('never hands one string the verdict of another', () => {
    const redactor = createRedactor();
    const secret = `ghp_${'Zz9'.repeat(12)}`;
    const almost = secret.slice(0, -1);
    // The near-miss is remembered clean first; the real one must still be caught, and counted each time.
    expect(redactor.redactString(almost)).toEqual({ value: almost, count: 0, byRule: {} });
    for (let round = 0; round < 3; round++) {
      expect(redactor.redactString(secret)).toEqual({
        value: '[REDACTED:github_token]',
        count: 1,
        byRule: { github_token: 1 },
      });
      expect(redactor.redactString(almost).count).toBe(0);
    }
  });

  it('tells apart strings of one length that differ in a single character', () => {
    const redactor = createRedactor();
    const secret = `ghp_${'Zz9'.repeat(12)}`;
    // Same length, same first, middle and last characters: likely the same slot, never the same verdict.
    const lookalike = `${secret.slice(0, 5)}!${secret.slice(6)}`;
    for (let round = 0; round < 3; round++) {
      expect(redactor.redactString(lookalike)).toEqual({ value: lookalike, count: 0, byRule: {} });
      expect(redactor.redactString(secret).value).toBe('[REDACTED:github_token]');
    }
  });

  it('counts secrets every time they are seen, in keys and values alike', () => {
    const redactor = createRedactor();
    const token = `ghp_${'Ab1'.repeat(12)}`;
    const value = { [token]: 'x', note: token, region: 'eu-west-1' };
    for (let round = 0; round < 3; round++) {
      expect(redactor.redactValue(value)).toEqual({
        value: { '[REDACTED:github_token]': 'x', note: '[REDACTED:github_token]', region: 'eu-west-1' },
        count: 2,
        byRule: { github_token: 2 },
      });
    }
  });

  it('stays right while entries keep replacing one another', () => {
    const redactor = createRedactor();
    const reference = createReferenceRedactor();
    for (let index = 0; index < 10_000; index++) {
      const text = index % 97 === 0 ? `sk-proj-${index}abcdefghijklmnopqrstu` : `instance-${index}`;
      expectSame(redactor.redactString(text), reference.redactString(text));
    }
  });
});
