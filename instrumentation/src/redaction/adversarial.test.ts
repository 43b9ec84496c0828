import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { createRedactor } from './index.js';
import { FORMAT_NAMES, fakeSecret, seededRandom } from './test-support/fake-secrets.js';

const SIZE = 100_000;

/** `unit` repeated to `SIZE` characters. */
const fill = (unit: string): string => unit.repeat(Math.ceil(SIZE / unit.length)).slice(0, SIZE);
const after = (head: string, unit: string): string => head + fill(unit).slice(head.length);

/** Near-matches for every detector: prefixes that never complete, runs that overshoot, endless bodies. */
const HOSTILE_INPUTS: Record<string, string> = {
  'eyJ repeated': fill('eyJ'),
  'eyJ then one long segment': after('eyJ', 'a'),
  'JWT headers without payloads': fill('eyJhbGciOiJIUzI1NiJ9. '),
  'dots between base64url runs': fill('eyJaaaaaaaaaa.'),
  'Bearer then 1e5 letters': after('Bearer ', 'a'),
  'Bearer repeated': fill('Bearer '),
  'Basic then base64 run': after('Basic ', 'QUJD'),
  'a:a@ repeated': fill('a:a@'),
  'scheme then a:a@ repeated': after('https://', 'a:a@'),
  'scheme repeated': fill('a://'),
  'userinfo without host end': after('postgres://user:', 'p@'),
  'digits for Luhn': fill('4111111111111111'),
  'spaced digits': fill('4 '),
  'dashed digit groups': fill('4111-'),
  'BEGIN without END': after('-----BEGIN RSA PRIVATE KEY-----\n', 'QUJD\n'),
  'BEGIN repeated': fill('-----BEGIN PRIVATE KEY-----'),
  'PEM body of dashes': after('-----BEGIN PRIVATE KEY-----', 'A-'),
  'deep JSON arrays in a string': '['.repeat(SIZE / 2) + ']'.repeat(SIZE / 2),
  'deep JSON objects in a string': '{"a":'.repeat(SIZE / 5) + '1' + '}'.repeat(SIZE / 5),
  'unterminated JSON in a string': '{"password": "' + 'a'.repeat(SIZE),
  'wide JSON document in a string': JSON.stringify(
    Array.from({ length: SIZE / 10 }, (_, index) => ({ password: index, note: 'token=abc' })),
  ),
  'password= repeated': fill('password='),
  'a=a= repeated': fill('a=a='),
  'long key before =': after('', 'a') + '=x',
  'quoted value never closed': after('"password": "', 'a'),
  'escaped quotes': fill('\\"password\\":\\"'),
  'key: repeated': fill('token: '),
  'AKIA repeated': fill('AKIA'),
  'ghp_ repeated': fill('ghp_'),
  'sk- then dashes': after('sk-', 'a-'),
  'xoxb- repeated': fill('xoxb-'),
  'SG. segments': fill('SG.aaaaaaaaaaaaaaaa.'),
  'ya29. repeated': fill('ya29.'),
  '1//0 repeated': fill('1//0'),
  'AccountKey= repeated': fill('AccountKey='),
  'sig= query repeated': fill('?sig='),
  'Entra secret near-misses': fill('abc1Q~'),
  'AC sids without tokens': fill('AC0123456789abcdef0123456789abcdef:'),
  'hooks.slack.com repeated': fill('https://hooks.slack.com/services/'),
  'escaped newlines': fill('\\n'),
  'aws_secret_access_key= repeated': fill('aws_secret_access_key='),
  'key ids then words': fill('AKIAZ7XK3PQ9RMT2LWVB secret key is '),
  'key ids then a slash run': after('AKIAZ7XK3PQ9RMT2LWVB / ', 'a/'),
  'key ids then 39 key characters': fill(`ASIAZ7XK3PQ9RMT2LWVB, ${'Ab1/'.repeat(10).slice(0, 39)} `),
  'key ids then 41 key characters': fill(`AKIAZ7XK3PQ9RMT2LWVB ${'Ab1+'.repeat(11).slice(0, 41)}\n`),
  'key ids glued by separators': fill('AKIAZ7XK3PQ9RMT2LWVB, '),
  "PASSWORD ' repeated": fill("PASSWORD '"),
  'PASSWORD then an unclosed quote': after("PASSWORD '", 'a'),
  'PASSWORD then escapes': after("PASSWORD '", "\\'"),
  'PASSWORD then doubled quotes': after("PASSWORD '", "''a"),
  'IDENTIFIED BY repeated': fill('IDENTIFIED WITH x BY '),
  'SET PASSWORD FOR without =': after('SET PASSWORD FOR ', 'a'),
  'SET PASSWORD FOR repeated': fill('set password for '),
  'password_assignment near-misses': fill('password="'),
  'password= then one endless value': after('password=', 'p'),
  'password= inside an endless value': fill('password=password'),
  'long values after names, repeated': fill(`token=${'t'.repeat(300)} `),
  'long quoted values, repeated': fill(`"secret": "${'s '.repeat(150)}", `),
  'long quoted values holding markers': fill(`password="[REDACTED:x] ${'a'.repeat(300)} password=`),
};

/** Each detector's real secret minus its last character, repeated with and without separators. */
const random = seededRandom(7);
for (const format of FORMAT_NAMES) {
  const nearMiss = fakeSecret(format, random).text.slice(0, -1);
  HOSTILE_INPUTS[`${format} near-misses, glued`] = fill(nearMiss);
  HOSTILE_INPUTS[`${format} near-misses, spaced`] = fill(`${nearMiss} `);
}

/**
 * 200 ms per 100 KB is generous: a linear scan of 100 KB by every pattern is a few million character
 * steps (single-digit milliseconds here), while one catastrophically backtracking pattern on the same
 * input takes seconds to hours. The bound leaves over an order of magnitude for slow, shared machines.
 */
const BOUND_MS = 200;
/**
 * On a machine loaded by other work every scan is slower, hostile or not. So the bound also scales
 * with ordinary prose of the same size scanned just before: hostile input here costs 0.2–3× that
 * prose, while backtracking costs thousands of times more, which no load explains.
 */
const PROSE_FACTOR = 40;
const PROSE = fill('Deploy the change to eu-west-1 after the plan is approved; ticket 4211, 3 hosts. ');

/** Best of three runs: scheduler noise on a loaded machine only ever adds time, backtracking is deterministic. */
const timed = (work: () => unknown): number => {
  let best = Number.POSITIVE_INFINITY;
  for (let run = 0; run < 3; run++) {
    const started = performance.now();
    work();
    best = Math.min(best, performance.now() - started);
  }
  return best;
};

/** The bound for one hostile scan: `BOUND_MS`, or more when the same scan of prose is slow right now. */
const boundFor = (scan: (text: string) => unknown, multiple = 1): number =>
  multiple * Math.max(BOUND_MS, PROSE_FACTOR * timed(() => scan(PROSE)));

describe('hostile input stays linear', () => {
  // maxStringLength raised so the patterns, not the length cap, face the whole 100 KB.
  const uncapped = createRedactor({ maxStringLength: 2 * SIZE });
  const defaults = createRedactor();
  uncapped.redactString('warm up eyJ Bearer a:a@ 4111');

  it.each(Object.entries(HOSTILE_INPUTS))('%s: within the bound, uncapped and by default', (_name, input) => {
    expect(input.length).toBeGreaterThanOrEqual(SIZE);
    const scanString = (text: string): unknown => uncapped.redactString(text);
    expect(timed(() => scanString(input))).toBeLessThan(boundFor(scanString));
    const scanValue = (text: string): unknown =>
      uncapped.redactValue({ note: text, [text.slice(0, 2000)]: 1 });
    expect(timed(() => scanValue(input))).toBeLessThan(boundFor(scanValue));
    let capped = '';
    const scanCapped = (text: string): string => defaults.redactString(text).value;
    expect(timed(() => (capped = scanCapped(input)))).toBeLessThan(boundFor(scanCapped));
    expect(capped.length).toBeLessThanOrEqual(4096);
  });

  it('bounds deep and wide structures by maxDepth and maxNodes, not by their size', () => {
    let deep: unknown = 'leaf';
    for (let level = 0; level < 10_000; level++) deep = [deep];
    const scanValue = (value: unknown): unknown => defaults.redactValue(value);
    expect(timed(() => scanValue(deep))).toBeLessThan(boundFor(scanValue));
    // A million values would take seconds to scan; the 10_000-value budget stops the walk early.
    const long = Array.from({ length: 1_000_000 }, (_, index) => `value ${index}`);
    expect(timed(() => scanValue(long))).toBeLessThan(boundFor(scanValue, 2));
  });
});
