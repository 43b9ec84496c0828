import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
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
import { ASSIGNMENT_NAME, BUILT_IN_ASSIGNMENT_NAME, BUILT_IN_RULES } from './rules.js';
import { FORMAT_NAMES, fakeSecret, seededRandom } from './test-support/fake-secrets.js';

interface Guarded {
  name: string;
  /** The pattern as the scanner runs it, minus the global state. */
  pattern: RegExp;
  prefilter: CompiledPrefilter;
}

const stateless = (pattern: RegExp): RegExp => new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ''));

const valueRules = BUILT_IN_RULES.filter((rule) => rule.value !== undefined);

const GUARDED: readonly Guarded[] = [
  ...valueRules.map((rule) => ({
    name: rule.name,
    pattern: stateless(rule.value as RegExp),
    prefilter: compilePrefilter(VALUE_RULE_PREFILTERS[rule.name] ?? { minLength: 0 }),
  })),
  {
    name: 'name=value (built-in key rules)',
    pattern: stateless(BUILT_IN_ASSIGNMENT_NAME),
    prefilter: compilePrefilter(BUILT_IN_ASSIGNMENT_PREFILTER),
  },
  {
    name: 'name=value (with user key rules)',
    pattern: stateless(ASSIGNMENT_NAME),
    prefilter: compilePrefilter(ANY_ASSIGNMENT_PREFILTER),
  },
];

/** Matches seen per rule over the whole file: a property that never saw a match proves nothing. */
const matchesSeen = new Map<string, number>(GUARDED.map((guarded) => [guarded.name, 0]));

const facts = emptyFacts();

/** The invariant, with the short-text facts (runs and digits measured) and the long-text ones (not). */
const expectAdmittedWhereMatched = (text: string): void => {
  for (const guarded of GUARDED) {
    const match = guarded.pattern.exec(text);
    if (match === null) continue;
    matchesSeen.set(guarded.name, (matchesSeen.get(guarded.name) ?? 0) + 1);
    // The match alone is the tightest test of lengths and runs: nothing around it to help.
    const candidates = match[0] === text ? [text] : [text, match[0]];
    for (const candidate of candidates) {
      if (!guarded.pattern.test(candidate)) continue;
      for (const shape of [true, false]) {
        gatherFacts(candidate, facts, shape);
        expect(
          admits(guarded.prefilter, facts),
          `${guarded.name} rejected ${JSON.stringify(candidate)}`,
        ).toBe(true);
      }
    }
  }
};

const random = seededRandom(20_261_124);
const corpus = FORMAT_NAMES.flatMap((format) =>
  Array.from({ length: 4 }, () => fakeSecret(format, random).text),
);

/** Every literal piece the patterns are built from, so random assemblies land on and near matches. */
const PIECES = [
  '-----BEGIN ',
  'RSA ',
  'PRIVATE KEY',
  '-----',
  '-----END ',
  ' BLOCK',
  'eyJ',
  '.',
  'https://',
  'postgres://',
  'a:',
  ':',
  '@',
  'hooks.slack.com/',
  'services/',
  'workflows/',
  'AKIA',
  'ASIA',
  'AKIAZ7XK3PQ9RMT2LWVB ',
  ', ',
  'AROA',
  'aws_',
  'secret_access_key',
  'SecretAccessKey',
  'SECRET_ACCESS_KEY',
  ' = ',
  '=',
  '=>',
  '"',
  "'",
  '\\',
  'AIza',
  'ya29.',
  '1//0',
  'ghp_',
  'ghs_',
  'github_pat_',
  'glpat-',
  'glsoat-',
  'glsa_',
  'glc_',
  'xoxb-',
  'xapp-',
  'sk_live_',
  'rk_test_',
  'whsec_',
  'sk-',
  'sk-ant-',
  'SG.',
  'SK',
  'AC',
  '%3A',
  'npm_',
  'pypi-',
  'hvs.',
  'hvr.',
  'hf_',
  'dop_v1_',
  'dor_v1_',
  'shpat_',
  'shppa_',
  'dapi',
  '-1',
  'AGE-SECRET-KEY-1',
  'AccountKey=',
  'SharedAccessKey=',
  'SharedSecretValue=',
  '?sig=',
  '&signature=',
  '&X-Amz-Signature=',
  'Q~',
  'Bearer ',
  'bearer\t',
  'BEARER  ',
  'Token ',
  'Basic ',
  'BASIC ',
  'password=',
  ' PASSWORD ',
  'IDENTIFIED BY ',
  'identified with x by ',
  'SET PASSWORD FOR ',
  "''",
  '(',
  'PassPhrase: ',
  'api_key_value=',
  'Cookie:',
  'dsn := ',
  'x.credentials_2 => ',
  'str=',
  'pin=',
  ' ',
  '\n',
  '-',
  '_',
  '/',
  '+',
  '~',
  '4111',
  '5500 0000 ',
];

const ALPHABETS = [
  'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789',
  'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789',
  '0123456789abcdef',
  '0123456789',
  'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-',
  'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/=',
];
/** Run lengths the patterns count to, and their neighbours. */
const RUN_LENGTHS = [
  1, 2, 3, 4, 8, 9, 10, 12, 13, 15, 16, 19, 20, 22, 24, 29, 30, 31, 32, 33, 34, 35, 36, 39, 40, 43, 44, 58,
  63, 64, 70,
];

const run = fc
  .tuple(fc.constantFrom(...ALPHABETS), fc.constantFrom(...RUN_LENGTHS), fc.integer())
  .map(([alphabet, length, seed]) => {
    const next = seededRandom(seed);
    let text = '';
    for (let index = 0; index < length; index++) text += alphabet[Math.floor(next() * alphabet.length)];
    return text;
  });

const assembled = fc
  .array(fc.oneof(fc.constantFrom(...PIECES), run, fc.string({ maxLength: 3 })), {
    minLength: 1,
    maxLength: 8,
  })
  .map((parts) => parts.join(''));

const flipCase = (text: string, mask: number): string =>
  [...text]
    .map((character, index) =>
      ((mask >> (index % 31)) & 1) === 1
        ? character === character.toUpperCase()
          ? character.toLowerCase()
          : character.toUpperCase()
        : character,
    )
    .join('');

/** A corpus secret edited: a character dropped or inserted, a piece cut, its case flipped here and there. */
const mutated = fc
  .tuple(fc.constantFrom(...corpus), fc.nat(), fc.nat(), fc.string({ maxLength: 3 }), fc.nat(), fc.boolean())
  .map(([text, at, cut, insert, mask, flip]) => {
    const position = at % (text.length + 1);
    const edited = text.slice(0, position) + insert + text.slice(position + (cut % 3));
    return flip ? flipCase(edited, mask) : edited;
  });

/** `source` with its lookbehinds and lookaheads dropped, which the string generator cannot handle. */
const withoutLookarounds = (source: string): string => {
  let output = '';
  let index = 0;
  /** The index just past the character class that opens at `start`. */
  const classEnd = (start: number): number => {
    let end = start + 1;
    while (end < source.length && source[end] !== ']') end += source[end] === '\\' ? 2 : 1;
    return end + 1;
  };
  while (index < source.length) {
    if (/^\(\?<?[!=]/.test(source.slice(index, index + 4))) {
      let depth = 0;
      while (index < source.length) {
        const character = source[index];
        if (character === '\\') index += 2;
        else if (character === '[') index = classEnd(index);
        else {
          index++;
          if (character === '(') depth++;
          if (character === ')' && --depth === 0) break;
        }
      }
      continue;
    }
    const next = source[index] === '\\' ? index + 2 : source[index] === '[' ? classEnd(index) : index + 1;
    output += source.slice(index, next);
    index = next;
  }
  return output;
};

/**
 * Strings each pattern matches (bar its assertions), with random text around them or alone; patterns
 * that ignore case get their case shuffled.
 */
const fromPatterns = fc.oneof(
  ...GUARDED.flatMap(({ pattern }) => {
    const source = withoutLookarounds(pattern.source);
    return [source, `^(?:${source})$`].map((generatedFrom) => {
      const generated = fc.stringMatching(new RegExp(generatedFrom, pattern.flags.replace(/[gydi]/g, '')));
      return pattern.flags.includes('i')
        ? fc.tuple(generated, fc.nat()).map(([text, mask]) => flipCase(text, mask))
        : generated;
    });
  }),
);

const inText = fc
  .tuple(
    fc.string({ maxLength: 20 }),
    fc.oneof(fc.constantFrom(...corpus), mutated),
    fc.string({ maxLength: 20 }),
  )
  .map(([before, secret, after]) => `${before} ${secret} ${after}`);

/** The shortest string each pattern matches: the prefilters' bounds must admit them, at the edge. */
const SHORTEST: Readonly<Record<string, string>> = {
  pem_private_key: '-----BEGINPRIVATE KEY-----',
  jwt: `eyJ${'a'.repeat(10)}.bb`,
  url_credentials: 'ab://:x@',
  sql_password: "password 'x'",
  slack_webhook: `https://hooks.slack.com/services/${'a'.repeat(8)}`,
  aws_access_key_id: `AKIA${'A'.repeat(16)}`,
  aws_secret_access_key: `secretaccesskey=${'a'.repeat(40)}`,
  google_api_key: `AIza${'a'.repeat(35)}`,
  google_oauth_token: `ya29.${'a'.repeat(20)}`,
  github_token: `ghp_${'a'.repeat(36)}`,
  gitlab_token: `gldt-${'a'.repeat(20)}`,
  slack_token: `xoxb-${'a'.repeat(10)}`,
  stripe_key: `sk_live_${'a'.repeat(10)}`,
  anthropic_api_key: `sk-ant-${'a'.repeat(20)}`,
  openai_api_key: `sk-${'a'.repeat(20)}`,
  sendgrid_api_key: `SG.${'a'.repeat(16)}.${'a'.repeat(16)}`,
  twilio_api_key: `SK${'a'.repeat(32)}`,
  twilio_auth_token: `AC${'a'.repeat(32)}:${'a'.repeat(32)}`,
  npm_token: `npm_${'a'.repeat(36)}`,
  pypi_token: `pypi-${'a'.repeat(40)}`,
  hashicorp_vault_token: `hvs.${'a'.repeat(20)}`,
  huggingface_token: `hf_${'a'.repeat(30)}`,
  digitalocean_token: `dop_v1_${'a'.repeat(64)}`,
  shopify_token: `shpat_${'a'.repeat(32)}`,
  databricks_token: `dapi${'a'.repeat(32)}`,
  grafana_token: `glc_${'a'.repeat(32)}`,
  age_secret_key: `AGE-SECRET-KEY-1${'A'.repeat(58)}`,
  azure_account_key: `AccountKey=${'a'.repeat(8)}`,
  url_signature: `sig=${'a'.repeat(16)}`,
  jwk_private_key: `"kty":"EC""d":"${'a'.repeat(16)}"`,
  putty_private_key: `Private-Lines:1 ${'a'.repeat(16)}`,
  oracle_password: 'conn u/p@',
  mysql_password: 'mysql -px',
  netrc_password: 'machine h password p',
  terraform_cloud_token: `${'a'.repeat(14)}.atlasv1.${'a'.repeat(60)}`,
  pulumi_access_token: `pul-${'a'.repeat(40)}`,
  doppler_token: `dp.pt.${'a'.repeat(40)}`,
  flyio_token: `fm2_${'a'.repeat(32)}`,
  sentry_token: `sntrys_${'a'.repeat(32)}`,
  postman_api_key: `PMAK-${'a'.repeat(24)}-${'a'.repeat(34)}`,
  newrelic_api_key: `NRAK-${'A'.repeat(27)}`,
  azure_client_secret: `abc1Q~${'a'.repeat(31)}`,
  bearer_token: `Token ${'a'.repeat(8)}`,
  basic_auth: 'Basic aaaa',
  card_number: '4111111111111',
  'name=value (built-in key rules)': 'key:',
  'name=value (with user key rules)': 'a=',
};

describe('prefilters', () => {
  it('exist for every built-in value rule', () => {
    for (const rule of valueRules) expect(VALUE_RULE_PREFILTERS, rule.name).toHaveProperty(rule.name);
  });

  it('see the patterns with their assertions dropped, for generating strings', () => {
    expect(withoutLookarounds('(?<!(?<!\\\\)[A-Za-z(])eyJ(?<secret>[a-z]{2})(?![0-9)])x')).toBe(
      'eyJ(?<secret>[a-z]{2})x',
    );
  });

  it.each(GUARDED.map((guarded) => [guarded.name, guarded] as const))(
    '%s: admits the shortest string its pattern matches, and no shorter one',
    (name, guarded) => {
      const shortest = SHORTEST[name] ?? '';
      expect(guarded.pattern.test(shortest)).toBe(true);
      expect(shortest.length).toBe(guarded.prefilter.minLength);
      expectAdmittedWhereMatched(shortest);
    },
  );

  it('admit every corpus secret, alone and in text', () => {
    for (const secret of corpus) {
      expectAdmittedWhereMatched(secret);
      expectAdmittedWhereMatched(`error calling upstream with ${secret} (retrying)`);
      expectAdmittedWhereMatched(JSON.stringify({ env: [{ value: secret }] }));
    }
  });

  it('admit every string a pattern matches: corpus secrets in random text, edited secrets, assembled pieces', () => {
    fc.assert(fc.property(fc.oneof(inText, mutated, assembled), expectAdmittedWhereMatched), {
      numRuns: 10_000,
    });
  });

  it('admit every string a pattern matches: strings generated from the patterns themselves', () => {
    fc.assert(fc.property(fromPatterns, expectAdmittedWhereMatched), { numRuns: 20_000 });
  });

  it('admit what the patterns match in arbitrary text too', () => {
    fc.assert(fc.property(fc.string({ maxLength: 120 }), expectAdmittedWhereMatched), { numRuns: 2000 });
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 60 }), expectAdmittedWhereMatched), {
      numRuns: 1000,
    });
  });

  it('measure runs and digits as the regular expressions would', () => {
    const longest = (text: string, pattern: RegExp): number =>
      Math.max(0, ...(text.match(pattern) ?? []).map((match) => match.length));
    fc.assert(
      fc.property(fc.oneof(assembled, fc.string({ maxLength: 60 })), (text) => {
        gatherFacts(text, facts, true);
        expect(facts).toMatchObject({
          digits: (text.match(/[0-9]/g) ?? []).length,
          digitRun: longest(text, /[0-9]+/g),
          alnumRun: longest(text, /[A-Za-z0-9]+/g),
          wordRun: longest(text, /[A-Za-z0-9_-]+/g),
        });
      }),
      { numRuns: 2000 },
    );
  });

  it('reject ordinary text for nearly every rule', () => {
    const ordinary = [
      'eu-west-1',
      'list_instances',
      'http.request.method',
      'https://mcp.example:8443/mcp?page=2',
    ];
    for (const text of ordinary) {
      gatherFacts(text, facts);
      const admitted = GUARDED.filter((guarded) => admits(guarded.prefilter, facts)).map(({ name }) => name);
      expect(admitted.length, `${text}: ${admitted.join(', ')}`).toBeLessThanOrEqual(2);
    }
  });

  // Runs last: a rule no generated string matched would have had its invariant tested on nothing.
  it('saw every pattern match generated strings many times over', () => {
    for (const [name, seen] of matchesSeen) expect(seen, name).toBeGreaterThanOrEqual(20);
  });
});
