/**
 * Cheap necessary conditions for the built-in value rules and the `name=value` scan. Each rule's
 * prefilter says what every match of its pattern holds: a minimum length, literal substrings, a word
 * of `CREDENTIAL_WORDS`, and for short texts the longest runs of token characters and digits, measured
 * in one pass. A prefilter may admit strings its pattern does not match; it must never reject one the
 * pattern does match (`prefilter.test.ts` checks this against strings generated from the patterns).
 */

/** Strings up to this length are measured character by character; longer ones only searched natively. */
const SHAPE_LIMIT = 256;

export interface Prefilter {
  /** Shortest string the pattern can match. */
  minLength: number;
  /**
   * Substrings every match contains, searched in order. A search costs about one step per occurrence
   * of the substring's first character, so rare characters and substrings that start with one go first.
   */
  allOf?: readonly string[];
  /** Substrings of which every match contains at least one. */
  anyOf?: readonly string[];
  /** Every match contains one of `CREDENTIAL_WORDS`: searched once per text, shared by the rules that need it. */
  credentialWord?: boolean;
  /** A pattern every match also matches, for rules that ignore case. */
  contains?: RegExp;
  /** Bounds on the longest runs of [0-9], [A-Za-z0-9] and [A-Za-z0-9_-] every match holds, and its digits. */
  minDigits?: number;
  minDigitRun?: number;
  minAlnumRun?: number;
  minWordRun?: number;
}

/**
 * Words one of which every `name=value` pair the built-in key rules claim holds, and every AWS secret
 * key or URL signature match: `pass`, `pwd`, `secret`, `token`, `auth`, `key`, `credentials`,
 * `cookie`, `signature` (and `sig=`), `dsn`, `str`, `phrase`, `mnemonic`, `seed`, in any case.
 */
const CREDENTIAL_WORDS = /pass|pwd|secret|token|auth|key|cred|cookie|sig|dsn|str|phrase|mnemonic|seed/i;

/** What the prefilters know about the text being scanned; facts are gathered once and shared. */
export interface TextFacts {
  text: string;
  /** Whether the runs and digits below were measured; long texts skip them. */
  shaped: boolean;
  digits: number;
  digitRun: number;
  alnumRun: number;
  wordRun: number;
  /** Whether `CREDENTIAL_WORDS` matches: undefined until a prefilter asks. */
  credentialWord: boolean | undefined;
}

export const emptyFacts = (): TextFacts => ({
  text: '',
  shaped: false,
  digits: 0,
  digitRun: 0,
  alnumRun: 0,
  wordRun: 0,
  credentialWord: undefined,
});

const ALNUM = 1;
const DIGIT = 2;
const WORD_PUNCTUATION = 4;

/** Character classes of ASCII; characters from 128 up are in none. */
const CLASSES = new Uint8Array(128);
for (let code = 0; code < 128; code++) {
  const character = String.fromCharCode(code);
  if (/[A-Za-z0-9]/.test(character)) CLASSES[code] = ALNUM;
  if (/[0-9]/.test(character)) CLASSES[code] = ALNUM | DIGIT;
  if (character === '_' || character === '-') CLASSES[code] = WORD_PUNCTUATION;
}

/** Refills `facts` for `text`; short texts get their runs and digits measured in one pass. */
export const gatherFacts = (
  text: string,
  facts: TextFacts,
  shape = text.length <= SHAPE_LIMIT,
): TextFacts => {
  facts.text = text;
  facts.shaped = shape;
  facts.credentialWord = undefined;
  if (!shape) return facts;
  let digits = 0;
  let digitRun = 0;
  let alnumRun = 0;
  let wordRun = 0;
  let longestDigitRun = 0;
  let longestAlnumRun = 0;
  let longestWordRun = 0;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    const bits = code < 128 ? (CLASSES[code] ?? 0) : 0;
    if ((bits & DIGIT) !== 0) {
      digits++;
      digitRun++;
    } else {
      if (digitRun > longestDigitRun) longestDigitRun = digitRun;
      digitRun = 0;
    }
    if ((bits & ALNUM) !== 0) {
      alnumRun++;
      wordRun++;
      continue;
    }
    if (alnumRun > longestAlnumRun) longestAlnumRun = alnumRun;
    alnumRun = 0;
    if ((bits & WORD_PUNCTUATION) !== 0) {
      wordRun++;
    } else {
      if (wordRun > longestWordRun) longestWordRun = wordRun;
      wordRun = 0;
    }
  }
  facts.digits = digits;
  facts.digitRun = Math.max(longestDigitRun, digitRun);
  facts.alnumRun = Math.max(longestAlnumRun, alnumRun);
  facts.wordRun = Math.max(longestWordRun, wordRun);
  return facts;
};

/** A prefilter made ready to run: absent bounds become zeros, patterns lose state. */
export interface CompiledPrefilter {
  minLength: number;
  allOf: readonly string[];
  anyOf: readonly string[] | undefined;
  credentialWord: boolean;
  contains: RegExp | undefined;
  minDigits: number;
  minDigitRun: number;
  minAlnumRun: number;
  minWordRun: number;
}

export const compilePrefilter = (prefilter: Prefilter): CompiledPrefilter => ({
  minLength: prefilter.minLength,
  allOf: prefilter.allOf ?? [],
  anyOf: prefilter.anyOf,
  credentialWord: prefilter.credentialWord ?? false,
  // A test must not depend on where an earlier one stopped.
  contains:
    prefilter.contains &&
    new RegExp(prefilter.contains.source, prefilter.contains.flags.replace(/[gy]/g, '')),
  minDigits: prefilter.minDigits ?? 0,
  minDigitRun: prefilter.minDigitRun ?? 0,
  minAlnumRun: prefilter.minAlnumRun ?? 0,
  minWordRun: prefilter.minWordRun ?? 0,
});

const shapeAdmits = (prefilter: CompiledPrefilter, facts: TextFacts): boolean =>
  !facts.shaped ||
  (facts.digits >= prefilter.minDigits &&
    facts.digitRun >= prefilter.minDigitRun &&
    facts.alnumRun >= prefilter.minAlnumRun &&
    facts.wordRun >= prefilter.minWordRun);

const containsAll = (text: string, literals: readonly string[]): boolean => {
  for (const literal of literals) if (!text.includes(literal)) return false;
  return true;
};

const containsAny = (text: string, literals: readonly string[]): boolean => {
  for (const literal of literals) if (text.includes(literal)) return true;
  return false;
};

const hasCredentialWord = (facts: TextFacts): boolean =>
  (facts.credentialWord ??= CREDENTIAL_WORDS.test(facts.text));

/** Whether the pattern behind `prefilter` may match the text `facts` describe; cheapest tests first. */
export const admits = (prefilter: CompiledPrefilter, facts: TextFacts): boolean =>
  facts.text.length >= prefilter.minLength &&
  shapeAdmits(prefilter, facts) &&
  containsAll(facts.text, prefilter.allOf) &&
  (prefilter.anyOf === undefined || containsAny(facts.text, prefilter.anyOf)) &&
  (!prefilter.credentialWord || hasCredentialWord(facts)) &&
  (prefilter.contains === undefined || prefilter.contains.test(facts.text));

/**
 * One prefilter per built-in value rule, by rule name, derived from its pattern in rules.ts: the
 * literal every match holds, the shortest match, the run of token characters every match contains.
 * A rule without an entry here always runs.
 */
export const VALUE_RULE_PREFILTERS: Readonly<Record<string, Prefilter>> = {
  // `-----BEGIN` + `PRIVATE KEY` + `-----`.
  pem_private_key: { minLength: 26, allOf: ['PRIVATE KEY', '-----BEGIN'] },
  // `eyJ` + 10 token characters + `.` + 2.
  jwt: { minLength: 16, minWordRun: 13, allOf: ['J', 'eyJ', '.'] },
  // `ab://` + `:` + one secret character + `@`.
  url_credentials: { minLength: 8, allOf: ['@', '://'] },
  // `password` + one space + a quoted character, in any case; `identified` + ` by ` + one is longer.
  sql_password: { minLength: 12, anyOf: ["'", '"'], contains: /password|identified/i },
  // `https://hooks.slack.com/` + `services/` + 8.
  slack_webhook: { minLength: 41, allOf: ['://', 'hooks.slack.com/'] },
  // A four-letter prefix + 16 of [A-Z0-9].
  aws_access_key_id: {
    minLength: 20,
    minAlnumRun: 20,
    allOf: ['A'],
    // Without the leading `A`: uppercase first letters are rare, which keeps each search short.
    anyOf: ['KIA', 'SIA', 'BIA', 'CCA', 'GPA', 'IDA', 'IPA', 'NPA', 'NVA', 'ROA'],
  },
  // `secretaccesskey` + `:` or `=` + 40, or a key id + one separator + 40, in any case.
  aws_secret_access_key: {
    minLength: 56,
    contains: /secret_?access_?key|(?:AKIA|ASIA)[A-Z0-9]{16}/i,
  },
  // `AIza` + 35 token characters.
  google_api_key: { minLength: 39, minWordRun: 39, allOf: ['AIza'] },
  // `ya29.` + 20, or `1//0` + 30.
  google_oauth_token: { minLength: 25, anyOf: ['ya29.', '//0'] },
  // `ghp_` + 36, or `github_pat_` + 40.
  github_token: {
    minLength: 40,
    minWordRun: 40,
    allOf: ['_'],
    anyOf: ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_', 'github_pat_'],
  },
  // `gldt-` + 20 token characters.
  gitlab_token: {
    minLength: 25,
    minWordRun: 25,
    allOf: ['-', 'gl'],
    anyOf: ['glpat-', 'gldt-', 'glrt-', 'glptt-', 'glsoat-', 'glcbt-'],
  },
  // `xoxb-` or `xapp-` + 10.
  slack_token: { minLength: 15, minWordRun: 15, allOf: ['-'], anyOf: ['xox', 'xapp-'] },
  // `sk_live_` + 10, or `whsec_` + 24.
  stripe_key: { minLength: 18, minWordRun: 18, allOf: ['_'], anyOf: ['_live_', '_test_', 'whsec_'] },
  // `sk-ant-` + 20 token characters.
  anthropic_api_key: { minLength: 27, minWordRun: 27, allOf: ['k-', 'sk-ant-'] },
  // `sk-` + 20 token characters.
  openai_api_key: { minLength: 23, minWordRun: 23, allOf: ['k-', 'sk-'] },
  // `SG.` + 16 + `.` + 16.
  sendgrid_api_key: { minLength: 36, minWordRun: 16, allOf: ['SG.'] },
  // `SK` + 32 hex.
  twilio_api_key: { minLength: 34, minAlnumRun: 34, allOf: ['SK'] },
  // `AC` + 32 hex + a separator + 32 hex.
  twilio_auth_token: { minLength: 67, minAlnumRun: 34, allOf: ['AC'] },
  // `npm_` + 36 letters and digits.
  npm_token: { minLength: 40, minAlnumRun: 36, allOf: ['_', 'pm_', 'npm_'] },
  // `pypi-` + 40 token characters.
  pypi_token: { minLength: 45, minWordRun: 45, allOf: ['-', 'ypi-', 'pypi-'] },
  // `hvs.` + 20 token characters.
  hashicorp_vault_token: { minLength: 24, minWordRun: 20, allOf: ['.'], anyOf: ['vs.', 'vb.', 'vr.'] },
  // `hf_` + 30 letters and digits.
  huggingface_token: { minLength: 33, minAlnumRun: 30, allOf: ['_', 'hf_'] },
  // `dop_v1_` + 64 hex.
  digitalocean_token: { minLength: 71, minAlnumRun: 64, allOf: ['_v1_'] },
  // `shpat_` + 32 hex.
  shopify_token: {
    minLength: 38,
    minAlnumRun: 32,
    allOf: ['_', 'hp'],
    anyOf: ['shpat_', 'shpss_', 'shpca_', 'shppa_'],
  },
  // `dapi` + 32 hex.
  databricks_token: { minLength: 36, minAlnumRun: 36, allOf: ['dapi'] },
  // `glc_` + 32, or `glsa_` + 32 + `_` + 8.
  grafana_token: { minLength: 36, allOf: ['_', 'gl'], anyOf: ['glsa_', 'glc_'] },
  // `AGE-SECRET-KEY-1` + 58 of [0-9A-Z].
  age_secret_key: { minLength: 74, minAlnumRun: 58, allOf: ['AGE-SECRET-KEY-1'] },
  // `AccountKey=` / `SharedAccessKey=` / `SharedSecretValue=` + 8.
  azure_account_key: { minLength: 19, anyOf: ['Key=', 'Value='] },
  // `sig=` + 16, in any case.
  url_signature: {
    minLength: 20,
    allOf: ['='],
    credentialWord: true,
    contains: /sig(?:nature)?=/i,
  },
  // `"kty":"EC"` + `"d":"` + 16 + `"`.
  jwk_private_key: { minLength: 32, allOf: ['"kty', '"d'] },
  // `Private-Lines:` + a digit + one separator + 16.
  putty_private_key: { minLength: 32, allOf: ['Private-Lines:'] },
  // `conn u/p@`, in any case.
  oracle_password: { minLength: 9, allOf: ['/', '@'] },
  // `mysql ` + `-p` + one character.
  mysql_password: { minLength: 9, allOf: ['mysql', '-p'] },
  // `machine h password p`.
  netrc_password: { minLength: 20, allOf: ['machine', 'password'] },
  // 14 + `.atlasv1.` + 60.
  terraform_cloud_token: { minLength: 83, allOf: ['.atlasv1.'] },
  // `pul-` + 40 hex.
  pulumi_access_token: { minLength: 44, minAlnumRun: 40, allOf: ['pul-'] },
  // `dp.pt.` + 40.
  doppler_token: { minLength: 46, minAlnumRun: 40, allOf: ['dp.'] },
  // `fo1_` + 43, or `fm2_` + 32.
  flyio_token: { minLength: 36, anyOf: ['fo1_', 'fm2_'] },
  // `sntrys_` + 32, or `sntryu_` + 64.
  sentry_token: { minLength: 39, allOf: ['sntry'] },
  // `PMAK-` + 24 + `-` + 34.
  postman_api_key: { minLength: 64, minAlnumRun: 34, allOf: ['PMAK-'] },
  // `NRAK-` + 27.
  newrelic_api_key: { minLength: 32, minAlnumRun: 27, allOf: ['NRAK-'] },
  // Three characters, a digit, `Q~`, 31 more.
  azure_client_secret: { minLength: 37, allOf: ['Q~'] },
  // `Token` + one space + 8.
  bearer_token: { minLength: 14, anyOf: ['Bearer', 'bearer', 'BEARER', 'Token'] },
  // `Basic` + one space + 4.
  basic_auth: { minLength: 10, anyOf: ['Basic', 'basic', 'BASIC'] },
  // 13 digits unbroken, or 4-4-4 grouped (12 digits in 14 characters); four digits come first.
  card_number: { minLength: 13, minDigits: 12, minDigitRun: 4 },
};

/** For the built-in `name=value` scan: a name ending in a key-rule word, then `:` or `=`. */
export const BUILT_IN_ASSIGNMENT_PREFILTER: Prefilter = {
  minLength: 4,
  anyOf: [':', '='],
  credentialWord: true,
};

/** For the `name=value` scan with user key rules: any name can be claimed, the separator is still needed. */
export const ANY_ASSIGNMENT_PREFILTER: Prefilter = { minLength: 2, anyOf: [':', '='] };
