/**
 * The built-in rules. Key rules are written against normalised key names (see key-names.ts);
 * value rules are scanned over strings already cut to `maxStringLength` plus a lookahead (walker.ts).
 *
 * Linear-time discipline for every pattern: each quantifier is bounded, adjacent quantifiers match
 * disjoint characters, and a token-shaped match may only start where a token can start (a negative
 * lookbehind that lets an escaped `\n` through), so a run of near-matches offers one start position
 * instead of one per character.
 * When a pattern has a `secret` group, only that group is replaced and the context around it stays.
 */
import {
  cardNumberLength,
  containsDigit,
  decodesToCredentialPair,
  looksLikeToken,
  mixedCase,
} from './checks.js';
import type { RedactionRule } from './types.js';

export interface BuiltInRule extends RedactionRule {
  /** Confirms a value match (the `secret` group, or the whole match) before it is replaced. */
  accept?: (secret: string, match?: RegExpExecArray) => boolean;
  /** How many leading characters of the match are the secret; 0 keeps it. For runs that may overshoot. */
  measure?: (secret: string) => number;
}

/** Suffixes that still name the secret itself: `password_hash`, `api_key_value`, `x_hub_signature_256`. */
const VALUE_SUFFIX =
  '(?:_(?:value|raw|plain|plaintext|b64|base64|hash|encoded|enc|text|str|string|data|bytes|header|\\d+))?';

/** A normalised key whose last word (before an optional value suffix) is one of `terms`. */
const keyNamed = (terms: string): RegExp => new RegExp(`(?:^|_)(?:${terms})\\d*${VALUE_SUFFIX}$`);

/** Key rules, most specific first: the first one that matches names the replacement. */
const KEY_RULES: readonly BuiltInRule[] = [
  // OAuth client secrets, reported apart from generic secrets.
  { name: 'key_client_secret', key: keyNamed('client_?secret') },
  // PEM or JWK private keys under any name ending in private key.
  // Kubeconfig's `client-key-data` holds the client's private key too.
  { name: 'key_private_key', key: keyNamed('(?:private|client)_?key') },
  // Session signing keys (`sessionKey`, `SESSION_KEY`).
  { name: 'key_session_key', key: keyNamed('session_?key') },
  // DSNs and ADO/JDBC connection strings embed passwords.
  { name: 'key_connection_string', key: keyNamed('connection_?string|conn_?str(?:ing)?|dsn') },
  // Passphrases for keys, and wallet seeds: `GPG_PASSPHRASE`, `mnemonic`, `seedPhrase`, `wallet_seed` (not `seed`).
  {
    name: 'key_passphrase',
    key: keyNamed('(?:pass|seed|recovery|mnemonic)_?phrase|mnemonic|(?:wallet|master)_?seed'),
  },
  // Passwords in every spelling: `password`, `dbPassword`, `PASSWD`, `pwd`, `pass`.
  { name: 'key_password', key: keyNamed('[a-z]{0,16}password|passwd|pwd|pass') },
  // API keys: `apiKey`, `x-api-key`, `OPENAI_API_KEY`, `Ocp-Apim-Subscription-Key`, `DD_APP_KEY`.
  { name: 'key_api_key', key: keyNamed('[a-z]{0,16}api_?key|(?:app|application|subscription)_?key') },
  // Secrets and symmetric keys: `secret`, `aws_secret_access_key`, `AccountKey`, `signing_key`,
  // Rails' `SECRET_KEY_BASE`, `TS_AUTHKEY`, one-time-password seeds.
  {
    name: 'key_secret',
    key: keyNamed(
      '[a-z]{0,16}secrets?|secret_(?:access_)?key(?:_base)?|(?:access|account|master|encryption|decryption|signing|shared|hmac|auth|recovery)_?key|[th]?otp_?seed',
    ),
  },
  // `Authorization` / `Proxy-Authorization` headers and attributes.
  { name: 'key_authorization', key: keyNamed('authori[sz]ation') },
  // Credential blobs: `credentials`, `GOOGLE_APPLICATION_CREDENTIALS`, `creds`.
  { name: 'key_credential', key: keyNamed('credentials?|creds?') },
  // Docker's config.json `auth` and `.npmrc` `_auth`: base64 of `user:password`.
  { name: 'key_auth', key: keyNamed('auth') },
  // `Cookie` and `Set-Cookie` carry session identifiers.
  { name: 'key_cookie', key: keyNamed('(?:set_)?cookies?') },
  // Request signatures (`X-Hub-Signature-256`) let a reader forge or replay requests.
  { name: 'key_signature', key: keyNamed('signature') },
  // "token" as the last word: `access_token`, `refreshToken`, `id-token`; never `max_tokens`, `token_count`.
  { name: 'key_token', key: keyNamed('[a-z]{0,16}token') },
];

/**
 * Where a token-shaped secret may begin: not inside a longer identifier, except right after an
 * escape such as `\n` in JSON-escaped text (the `n` there is not part of a word).
 */
const START = '(?<!(?<!\\\\)[A-Za-z0-9_-])';

/** Value rules in the order they run: specific formats first, so the most telling name wins. */
const VALUE_RULES: readonly BuiltInRule[] = [
  // PEM and PGP private keys, also with encryption or comment headers, or cut before the END line.
  {
    name: 'pem_private_key',
    value:
      /-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----(?:[^-]|-(?!----END)){0,16384}(?:-----END[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----)?/,
  },
  // JSON Web Tokens (and 5-part JWE): a base64url JSON header, then dot-separated parts.
  {
    name: 'jwt',
    value: new RegExp(
      `${START}eyJ[A-Za-z0-9_-]{10,4096}\\.[A-Za-z0-9_-]{2,8192}(?:\\.[A-Za-z0-9_-]{0,8192}){0,3}`,
    ),
  },
  // `scheme://user:password@host`: the password goes, scheme, user and host stay. A password may
  // hold `/` or `#` (not a port followed by a path).
  {
    name: 'url_credentials',
    value:
      /(?<!(?<!\\)[A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]{1,31}:\/\/[^\s:/?#@"'<>]{0,256}:(?<secret>(?!\d{1,5}\/)[^\s"'<>@]{1,256})@/,
  },
  // Passwords set in SQL: `WITH PASSWORD '…'`, `IDENTIFIED [WITH plugin] BY '…'`, `SET PASSWORD [FOR u] =
  // '…'`, `PASSWORD('…')`; only the quoted text goes. Single quotes may hold `''` and `\'` escapes.
  {
    name: 'sql_password',
    value:
      /(?<!(?<!\\)[A-Za-z0-9_])(?:identified\s{1,4}(?:with\s{1,4}[A-Za-z0-9_]{1,64}\s{1,4})?(?:by|as)\s{1,4}(?:password\s{1,4})?|set\s{1,4}password(?:\s{1,4}for\s{1,4}[^=\r\n]{1,128})?\s{0,4}=\s{0,4}|password(?:\s{0,4}\(\s{0,4}|\s{1,4}))\\?['"](?<secret>(?<=')(?:[^'\\\r\n]|''|\\.){1,1024}(?=')|(?<=")[^"\\\r\n]{1,1024}(?=\\?"))\\?['"]/i,
  },
  // A private JSON Web Key's private exponent `d`, after its `kty`, also JSON-escaped (objects are
  // judged by structure).
  {
    name: 'jwk_private_key',
    value:
      /"kty\\?"\s{0,4}:\s{0,4}\\?"[A-Za-z-]{2,8}\\?"[^{}]{0,4096}?"d\\?"\s{0,4}:\s{0,4}\\?"(?<secret>[A-Za-z0-9_-]{16,8192})\\?"/,
  },
  // PuTTY private key files: the lines after `Private-Lines: N` (also with escaped newlines).
  {
    name: 'putty_private_key',
    value: /Private-Lines:\s{0,4}\d{1,4}(?:\s|\\[rn]){1,8}(?<secret>(?:[A-Za-z0-9+/=]|\s|\\[rn]){16,16384})/,
  },
  // Oracle connect strings: `sqlplus user/password@db`, `CONNECT user/password@db`, JDBC thin URLs.
  {
    name: 'oracle_password',
    value:
      /(?<!(?<!\\)[A-Za-z0-9_])(?:(?:sqlplus|rman|expdp|impdp|sqlldr|connect|conn)\s{1,4}(?:-[A-Za-z]{1,2}\s{1,4})?|jdbc:oracle:[a-z]{1,8}:)[A-Za-z0-9_$#."]{1,128}\/(?<secret>[^\s/@"']{1,128})@/i,
  },
  // MySQL command lines: `mysql -u root -pSecret` (the password glued to `-p`).
  {
    name: 'mysql_password',
    value:
      /(?<!(?<!\\)[A-Za-z0-9_])mysql(?:dump|admin|import|check|sh|pump|binlog)?(?:\.exe)?\s[^\r\n]{0,256}?(?<=\s)-p(?<secret>[^\s"'\\]{1,256})/,
  },
  // `.netrc` entries: `machine host [login user] password secret`.
  {
    name: 'netrc_password',
    value:
      /(?<!(?<!\\)[A-Za-z0-9_])machine\s{1,4}\S{1,256}\s{1,4}(?:login\s{1,4}\S{1,256}\s{1,4})?password\s{1,4}(?<secret>\S{1,256})/,
  },
  // HCP Terraform / Terraform Cloud and Terraform Enterprise API tokens.
  {
    name: 'terraform_cloud_token',
    value: /(?<!(?<!\\)[A-Za-z0-9])[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{60,128}/,
  },
  // Pulumi access tokens.
  { name: 'pulumi_access_token', value: /(?<!(?<!\\)[A-Za-z0-9_])pul-[a-f0-9]{40}/ },
  // Doppler personal, service, service-account, CLI, SCIM and audit tokens.
  {
    name: 'doppler_token',
    value: /(?<!(?<!\\)[A-Za-z0-9_])dp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,64}/,
  },
  // Fly.io access and macaroon tokens.
  {
    name: 'flyio_token',
    value: /(?<!(?<!\\)[A-Za-z0-9_])(?:fo1_[A-Za-z0-9_-]{43}|fm2_[A-Za-z0-9+/=_-]{32,4096})/,
  },
  // Sentry user and organisation auth tokens.
  {
    name: 'sentry_token',
    value: /(?<!(?<!\\)[A-Za-z0-9_])(?:sntryu_[a-f0-9]{64}|sntrys_[A-Za-z0-9+/=_-]{32,4096})/,
  },
  // Postman API keys.
  { name: 'postman_api_key', value: /(?<!(?<!\\)[A-Za-z0-9_])PMAK-[a-f0-9]{24}-[a-f0-9]{34}/ },
  // New Relic user API keys.
  { name: 'newrelic_api_key', value: /(?<!(?<!\\)[A-Za-z0-9_])NRAK-[A-Z0-9]{27}/ },
  // Slack incoming-webhook URLs are bearer credentials in themselves.
  {
    name: 'slack_webhook',
    value: /https:\/\/hooks\.slack\.com\/(?:services|workflows|triggers)\/(?<secret>[A-Za-z0-9/_+-]{8,512})/,
  },
  // AWS secret access keys have no prefix: recognised by the name written before them, or by an
  // AKIA/ASIA key id at most three words before them (`AKIA… secret wJalr…`, `AKIA…,wJalr…`), where
  // they must look random (mixed case), so a commit hash near an id stays. Runs before the key-id
  // rule, which then takes the id.
  {
    name: 'aws_secret_access_key',
    value:
      /(?<!(?<!\\)[A-Za-z0-9])(?:(?:aws_?)?secret_?access_?key\\?["']?\s{0,4}(?::|=>|=)\s{0,4}\\?["']?|(?<id>(?:AKIA|ASIA)[A-Z0-9]{16})(?:[^A-Za-z0-9+_-]{1,8}[A-Za-z_-]{1,32}){0,3}[^A-Za-z0-9+_-]{1,8})(?<secret>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])/i,
    accept: (secret, match) => match?.groups?.id === undefined || mixedCase(secret),
  },
  // AWS access key ids (long-term AKIA, temporary ASIA and the other IAM prefixes).
  {
    name: 'aws_access_key_id',
    value:
      /(?<!(?<!\\)[A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA)[A-Z0-9]{16}(?![A-Za-z0-9])/,
  },
  // Google API keys.
  { name: 'google_api_key', value: new RegExp(`${START}AIza[0-9A-Za-z_-]{35}`) },
  // Google OAuth access tokens (ya29.) and refresh tokens (1//0).
  {
    name: 'google_oauth_token',
    value: /(?<!(?<!\\)[A-Za-z0-9_./-])(?:ya29\.[0-9A-Za-z_.-]{20,4096}|1\/\/0[0-9A-Za-z_-]{30,512})/,
  },
  // GitHub personal, OAuth, user-to-server, server-to-server and refresh tokens, and fine-grained PATs.
  {
    name: 'github_token',
    value: /(?<!(?<!\\)[A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{40,251})/,
  },
  // GitLab personal, deploy, runner and trigger tokens.
  {
    name: 'gitlab_token',
    value: new RegExp(`${START}(?:glpat|gldt|glrt|glptt|glsoat|glcbt)-[A-Za-z0-9_-]{20,64}`),
  },
  // Slack bot, user, app, refresh and configuration tokens.
  { name: 'slack_token', value: new RegExp(`${START}(?:xox[abprse]|xapp)-[A-Za-z0-9-]{10,255}`) },
  // Stripe secret and restricted keys (live and test) and webhook signing secrets.
  {
    name: 'stripe_key',
    value:
      /(?<!(?<!\\)[A-Za-z0-9_])(?:(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,255}|whsec_[A-Za-z0-9]{24,255})/,
  },
  // Anthropic API and admin keys; runs before the OpenAI rule, which would also match `sk-`.
  { name: 'anthropic_api_key', value: new RegExp(`${START}sk-ant-[A-Za-z0-9_-]{20,255}`) },
  // OpenAI keys: legacy `sk-`, project `sk-proj-`, service-account `sk-svcacct-`; random, so they hold digits.
  { name: 'openai_api_key', value: new RegExp(`${START}sk-[A-Za-z0-9_-]{20,255}`), accept: containsDigit },
  // SendGrid API keys: `SG.<id>.<secret>`.
  { name: 'sendgrid_api_key', value: new RegExp(`${START}SG\\.[A-Za-z0-9_-]{16,32}\\.[A-Za-z0-9_-]{16,64}`) },
  // Twilio API key SIDs (`SK` + 32 hex) are paired with a secret and identify it.
  { name: 'twilio_api_key', value: /(?<!(?<!\\)[A-Za-z0-9])SK[0-9a-fA-F]{32}(?![A-Za-z0-9])/ },
  // Twilio auth tokens written next to their account SID (`AC…:token`, `AC… token`).
  {
    name: 'twilio_auth_token',
    value: /(?<!(?<!\\)[A-Za-z0-9])AC[0-9a-f]{32}(?:[:/\s]|%3A){1,3}(?<secret>[0-9a-f]{32})(?![0-9A-Za-z])/,
  },
  // npm access tokens.
  { name: 'npm_token', value: /(?<!(?<!\\)[A-Za-z0-9_])npm_[A-Za-z0-9]{36,64}/ },
  // PyPI upload tokens (macaroons).
  { name: 'pypi_token', value: new RegExp(`${START}pypi-[A-Za-z0-9_-]{40,4096}`) },
  // HashiCorp Vault service, batch and recovery tokens.
  { name: 'hashicorp_vault_token', value: /(?<!(?<!\\)[A-Za-z0-9_.-])hv[sbr]\.[A-Za-z0-9_-]{20,512}/ },
  // Hugging Face user access tokens.
  { name: 'huggingface_token', value: /(?<!(?<!\\)[A-Za-z0-9_])hf_[A-Za-z0-9]{30,64}/ },
  // DigitalOcean personal, OAuth and refresh tokens.
  { name: 'digitalocean_token', value: /(?<!(?<!\\)[A-Za-z0-9_])do[por]_v1_[a-f0-9]{64}/ },
  // Shopify admin, custom-app, partner and private-app tokens.
  { name: 'shopify_token', value: /(?<!(?<!\\)[A-Za-z0-9_])shp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}/ },
  // Databricks personal access tokens.
  { name: 'databricks_token', value: /(?<!(?<!\\)[A-Za-z0-9_])dapi[a-f0-9]{32}(?:-[0-9])?/ },
  // Grafana service-account tokens and Grafana Cloud access-policy tokens.
  {
    name: 'grafana_token',
    value: /(?<!(?<!\\)[A-Za-z0-9_])(?:glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}|glc_[A-Za-z0-9+/]{32,512}={0,2})/,
  },
  // age encryption secret keys.
  { name: 'age_secret_key', value: /AGE-SECRET-KEY-1[0-9A-Z]{58}/ },
  // Azure storage account keys and Service Bus / Event Hubs shared access keys in connection strings.
  {
    name: 'azure_account_key',
    value:
      /(?<!(?<!\\)[A-Za-z0-9])(?:AccountKey|SharedAccessKey|SharedSecretValue)=(?<secret>[^;\s"'&]{8,512})/,
  },
  // Signed URLs and bare SAS tokens: Azure `sig=`, AWS `X-Amz-Signature=`; the signature grants access.
  {
    name: 'url_signature',
    value:
      /(?<!(?<!\\)[A-Za-z0-9_.-])(?:sig|signature|x-amz-signature)=(?<secret>[A-Za-z0-9%+/=_-]{16,512})/i,
  },
  // Microsoft Entra ID (Azure AD) client secrets: three characters, a digit, `Q~`, then 31–34 more.
  {
    name: 'azure_client_secret',
    value: /(?<!(?<!\\)[A-Za-z0-9_~.-])[A-Za-z0-9_~.-]{3}[0-9]Q~[A-Za-z0-9_~.-]{31,34}/,
  },
  // `Bearer <token>` / `Token <token>` in headers, logs and error messages.
  {
    name: 'bearer_token',
    value: /(?<!(?<!\\)[A-Za-z0-9])(?:[Bb]earer|BEARER|Token)\s{1,4}(?<secret>[A-Za-z0-9._~+/=-]{8,4096})/,
    accept: looksLikeToken,
  },
  // `Basic <base64(user:password)>`.
  {
    name: 'basic_auth',
    value: /(?<!(?<!\\)[A-Za-z0-9])(?:[Bb]asic|BASIC)\s{1,4}(?<secret>[A-Za-z0-9+/]{4,4096}={0,2})/,
    accept: decodesToCredentialPair,
  },
  // Payment card numbers: 13–19 digits from a card-issuing range, Luhn-valid, unbroken or grouped as
  // printed (fours, or 4-6-5); never part of a longer number or a decimal fraction.
  {
    name: 'card_number',
    value:
      /(?<!(?<!\\)[0-9A-Za-z_]|[0-9]\.)[2-6][0-9]{3}(?:(?:[ -][0-9]{4}){2,3}(?:[ -][0-9]{1,4})?|[ -][0-9]{6}[ -][0-9]{4,5}|[0-9]{9,15})(?![0-9A-Za-z_]|\.[0-9])/,
    measure: cardNumberLength,
  },
];

export const BUILT_IN_RULES: readonly RedactionRule[] = [...KEY_RULES, ...VALUE_RULES];

/**
 * `name=value`, `name: value`, `"name": "value"`, `name => value` in free text, found in two steps so a
 * name that is no secret costs nothing more: first the name (group 1) and its separator, judged by the
 * key rules (`password=hunter2` fires `key_password`, `max_tokens=100` fires nothing), then the value.
 */
export const ASSIGNMENT_NAME =
  /(?<!(?<!\\)[A-Za-z0-9_.-])([A-Za-z_][A-Za-z0-9_.-]{0,63})\\?["']?\s{0,4}(?::=|=>|:|=)/;

/**
 * The same, for the built-in key rules only: the name must end in one of their words (and a value
 * suffix), so ordinary `name=value` text is skipped by the regex engine without building a match.
 */
export const BUILT_IN_ASSIGNMENT_NAME =
  /(?<!(?<!\\)[A-Za-z0-9_.-])([A-Za-z0-9_.-]{0,48}?(?:pass(?:word|wd|phrase)?|pwd|secrets?|token|auth|authori[sz]ation|key(?:[_.-]?base)?|credentials?|creds?|cookies?|signature|dsn|str(?:ing)?|phrase|mnemonic|seed)[0-9]{0,4}(?:[_.-]?(?:value|raw|plain|plaintext|b64|base64|hash|encoded|enc|text|str|string|data|bytes|header|[0-9]{1,4}))?)\\?["']?\s{0,4}(?::=|=>|:|=)/i;

/**
 * The value after a secret name, matched where the name ended: quoted, or up to a delimiter, keeping an
 * auth scheme with its token. A value that fills a bound (group `quoted` or `bare`) goes on past it:
 * `assignedValueSpan` reads the rest up to the same delimiter.
 */
export const ASSIGNED_VALUE =
  /\s{0,4}\\?["']?(?<secret>(?<=")(?:[^"\\\r\n]{1,256}(?=\\?")|(?<quoted>[^"\\\r\n]{256}))|(?<=')(?:[^'\\\r\n]{1,256}(?=')|(?<squoted>[^'\\\r\n]{256}))|(?:(?:[Bb]earer|[Bb]asic|[Tt]oken|Digest|Negotiate)\s{1,4})?(?<bare>[^\s"'\\,;&<>{}()[\]]{1,256}))/;

/** What is left of a quoted value, or of an unquoted one, after ASSIGNED_VALUE stopped at its bound. */
const QUOTED_VALUE_REST = /[^"\\\r\n]*/y;
const SINGLE_QUOTED_VALUE_REST = /[^'\\\r\n]*/y;
const BARE_VALUE_REST = /[^\s"'\\,;&<>{}()[\]]*/y;

/**
 * Start and end of the whole value an ASSIGNED_VALUE match (run with the `d` flag) found: the match
 * itself, extended to the value's delimiter when it stopped at its bound. One step per character read.
 */
export const assignedValueSpan = (text: string, match: RegExpExecArray): [number, number] | undefined => {
  const span = match.indices?.groups?.secret;
  if (span === undefined) return undefined;
  const rest =
    match.groups?.quoted !== undefined
      ? QUOTED_VALUE_REST
      : match.groups?.squoted !== undefined
        ? SINGLE_QUOTED_VALUE_REST
        : match.groups?.bare !== undefined
          ? BARE_VALUE_REST
          : undefined;
  if (rest === undefined) return span;
  rest.lastIndex = span[1];
  rest.test(text);
  return [span[0], rest.lastIndex];
};

/** Values after a secret name that are not secrets: flags, placeholders, or an auth scheme whose token another rule took. */
export const NON_SECRET_ASSIGNED_VALUE =
  /^(?:true|false|null|none|undefined|\*+|bearer|basic|token|digest|negotiate)$/i;
