/**
 * Fake secrets for tests, assembled at run time from a seeded generator and split prefixes, so the
 * repository holds no string a secret scanner would take for a live credential.
 */

export interface FakeSecret {
  /** The text as it would appear in a tool argument or a log line. */
  text: string;
  /** The rule expected to fire when `text` appears in free text. */
  rule: string;
  /** Random parts of the secret that must never survive redaction. */
  needles: string[];
}

export type Random = () => number;

/** mulberry32: tiny, seeded, good enough to make test data differ run to run of a seed. */
export const seededRandom = (seed: number): Random => {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const DIGITS = '0123456789';
const ALNUM = UPPER + LOWER + DIGITS;
const HEX = '0123456789abcdef';
const BASE64 = ALNUM + '+/';
const BASE64URL = ALNUM + '-_';

/** Random characters from `alphabet`, with at least one digit and one letter when the alphabet has both. */
const chars = (random: Random, alphabet: string, length: number): string => {
  let text = '';
  for (let index = 0; index < length; index++) text += alphabet[Math.floor(random() * alphabet.length)];
  const hasDigits = /[0-9]/.test(alphabet);
  const hasLetters = /[A-Za-z]/.test(alphabet);
  if (hasDigits && hasLetters && length >= 4) {
    const letter = /[A-Za-z]/.exec(alphabet)?.[0] ?? 'a';
    text = `${DIGITS[Math.floor(random() * 10)]}${text.slice(1, -1)}${letter}`;
  }
  return text;
};

const b64url = (text: string): string => Buffer.from(text).toString('base64url');

/** A Luhn-valid card number with the given issuer prefix and length. */
export const luhnCardNumber = (random: Random, prefix: string, length: number): string => {
  let digits = prefix;
  while (digits.length < length - 1) digits += DIGITS[Math.floor(random() * 10)];
  for (let check = 0; check <= 9; check++) {
    const candidate = digits + String(check);
    let sum = 0;
    for (let index = 0; index < candidate.length; index++) {
      let digit = Number(candidate[candidate.length - 1 - index]);
      if (index % 2 === 1) digit = digit * 2 > 9 ? digit * 2 - 9 : digit * 2;
      sum += digit;
    }
    if (sum % 10 === 0) return candidate;
  }
  throw new Error('unreachable: one check digit always fits');
};

const single = (rule: string, text: string, needle = text): FakeSecret => ({ text, rule, needles: [needle] });

/** One generator per format; each returns a fresh fake secret. */
export const FAKE_SECRET_FORMATS: Record<string, (random: Random) => FakeSecret> = {
  jwt: (random) => {
    const header = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: chars(random, ALNUM, 8) }));
    const payload = b64url(
      JSON.stringify({ sub: chars(random, ALNUM, 12), aud: 'api://infra', exp: 1_900_000_000 }),
    );
    const signature = chars(random, BASE64URL, 86);
    return { text: `${header}.${payload}.${signature}`, rule: 'jwt', needles: [payload, signature] };
  },
  bearer_token: (random) => {
    const token = chars(random, ALNUM + '._-', 40);
    return { text: `Bearer ${token}`, rule: 'bearer_token', needles: [token] };
  },
  basic_auth: (random) => {
    const password = chars(random, ALNUM, 14);
    const encoded = Buffer.from(`deploy-bot:${password}`).toString('base64');
    return { text: `Basic ${encoded}`, rule: 'basic_auth', needles: [encoded] };
  },
  aws_access_key_id: (random) =>
    single('aws_access_key_id', ['AK', 'IA'].join('') + chars(random, UPPER + DIGITS, 16)),
  aws_secret_access_key: (random) => {
    const secret = chars(random, ALNUM + '/+', 40);
    return { text: `aws_secret_access_key = ${secret}`, rule: 'aws_secret_access_key', needles: [secret] };
  },
  google_api_key: (random) =>
    single('google_api_key', ['AI', 'za'].join('') + chars(random, ALNUM + '_-', 35)),
  google_oauth_token: (random) =>
    single('google_oauth_token', ['ya', '29.'].join('') + chars(random, ALNUM + '_-', 120)),
  github_token: (random) => {
    const kind = ['p', 'o', 'u', 's', 'r'][Math.floor(random() * 5)] ?? 'p';
    return single('github_token', `gh${kind}_` + chars(random, ALNUM, 36));
  },
  github_fine_grained_pat: (random) =>
    single(
      'github_token',
      ['github', 'pat'].join('_') + '_' + chars(random, ALNUM, 22) + '_' + chars(random, ALNUM, 59),
    ),
  gitlab_token: (random) => single('gitlab_token', ['gl', 'pat-'].join('') + chars(random, ALNUM + '_-', 20)),
  slack_token: (random) =>
    single(
      'slack_token',
      ['xo', 'xb-'].join('') +
        `${chars(random, DIGITS, 12)}-${chars(random, DIGITS, 13)}-${chars(random, ALNUM, 24)}`,
    ),
  slack_webhook: (random) => {
    const path = `T${chars(random, UPPER + DIGITS, 8)}/B${chars(random, UPPER + DIGITS, 10)}/${chars(random, ALNUM, 24)}`;
    return { text: `https://hooks.slack.com/services/${path}`, rule: 'slack_webhook', needles: [path] };
  },
  stripe_key: (random) => {
    const prefix = ['sk_live_', 'rk_live_', 'sk_test_'][Math.floor(random() * 3)] ?? 'sk_live_';
    return single('stripe_key', prefix + chars(random, ALNUM, 24));
  },
  openai_api_key: (random) =>
    single('openai_api_key', ['sk', 'proj'].join('-') + '-' + chars(random, ALNUM + '_-', 64)),
  openai_legacy_key: (random) => single('openai_api_key', 'sk-' + chars(random, ALNUM, 48)),
  anthropic_api_key: (random) =>
    single(
      'anthropic_api_key',
      ['sk', 'ant', 'api03'].join('-') + '-' + chars(random, ALNUM + '_-', 93) + 'AA',
    ),
  sendgrid_api_key: (random) =>
    single('sendgrid_api_key', `SG.${chars(random, ALNUM + '_-', 22)}.${chars(random, ALNUM + '_-', 43)}`),
  twilio_api_key: (random) => single('twilio_api_key', 'SK' + chars(random, HEX, 32)),
  twilio_auth_token: (random) => {
    const token = chars(random, HEX, 32);
    return { text: `AC${chars(random, HEX, 32)}:${token}`, rule: 'twilio_auth_token', needles: [token] };
  },
  npm_token: (random) => single('npm_token', ['np', 'm_'].join('') + chars(random, ALNUM, 36)),
  pypi_token: (random) =>
    single('pypi_token', ['py', 'pi-'].join('') + 'AgEIcHlwaS5vcmc' + chars(random, BASE64URL, 70)),
  hashicorp_vault_token: (random) =>
    single('hashicorp_vault_token', ['hv', 's.'].join('') + chars(random, ALNUM, 90)),
  huggingface_token: (random) => single('huggingface_token', ['h', 'f_'].join('') + chars(random, ALNUM, 34)),
  digitalocean_token: (random) =>
    single('digitalocean_token', ['do', 'p_v1_'].join('') + chars(random, HEX, 64)),
  databricks_token: (random) => single('databricks_token', ['da', 'pi'].join('') + chars(random, HEX, 32)),
  shopify_token: (random) => single('shopify_token', ['sh', 'pat_'].join('') + chars(random, HEX, 32)),
  grafana_token: (random) =>
    single('grafana_token', ['gl', 'sa_'].join('') + chars(random, ALNUM, 32) + '_' + chars(random, HEX, 8)),
  age_secret_key: (random) =>
    single('age_secret_key', ['AGE', 'SECRET', 'KEY', '1'].join('-') + chars(random, UPPER + DIGITS, 58)),
  azure_account_key: (random) => {
    const key = chars(random, BASE64, 86) + '==';
    return {
      text: `DefaultEndpointsProtocol=https;AccountName=infrastate;AccountKey=${key};EndpointSuffix=core.windows.net`,
      rule: 'azure_account_key',
      needles: [key.slice(0, 40)],
    };
  },
  url_signature: (random) => {
    const signature = chars(random, ALNUM, 43) + '%3D';
    return {
      text: `https://infrastate.blob.core.windows.net/tfstate/prod.tfstate?sv=2022-11-02&sr=b&sp=r&sig=${signature}`,
      rule: 'url_signature',
      needles: [signature],
    };
  },
  azure_client_secret: (random) =>
    single(
      'azure_client_secret',
      chars(random, ALNUM, 3) + String(Math.floor(random() * 10)) + 'Q~' + chars(random, ALNUM + '_~.-', 34),
    ),
  pem_private_key: (random) => {
    const lines = Array.from({ length: 6 }, () => chars(random, BASE64, 64));
    const kind = ['RSA ', 'EC ', '', 'OPENSSH '][Math.floor(random() * 4)] ?? '';
    const text = `-----BEGIN ${kind}PRIVATE KEY-----\n${lines.join('\n')}\n-----END ${kind}PRIVATE KEY-----`;
    return { text, rule: 'pem_private_key', needles: lines };
  },
  pem_private_key_truncated: (random) => {
    const lines = Array.from({ length: 3 }, () => chars(random, BASE64, 64));
    return {
      text: `-----BEGIN PRIVATE KEY-----\n${lines.join('\n')}\n${chars(random, BASE64, 20)}`,
      rule: 'pem_private_key',
      needles: lines,
    };
  },
  url_credentials: (random) => {
    const password = chars(random, ALNUM, 18);
    const scheme = ['postgres', 'mysql', 'redis', 'amqp', 'https'][Math.floor(random() * 5)] ?? 'postgres';
    return {
      text: `${scheme}://app_user:${password}@db.internal.example:5432/app`,
      rule: 'url_credentials',
      needles: [password],
    };
  },
  sql_password: (random) => {
    const password = chars(random, ALNUM + '-_!#', 16);
    const statements = [
      `ALTER USER app WITH PASSWORD '${password}'`,
      `CREATE USER 'svc'@'%' IDENTIFIED BY '${password}'`,
      `SET PASSWORD FOR 'svc'@'%' = '${password}'`,
    ];
    const text = statements[Math.floor(random() * statements.length)] ?? '';
    return { text, rule: 'sql_password', needles: [password] };
  },
  connection_string_password: (random) => {
    const password = chars(random, ALNUM + '!#$%', 16);
    return {
      text: `Server=tcp:sql-prod.database.windows.net,1433;Initial Catalog=app;User ID=svc;Password=${password};Encrypt=True`,
      rule: 'key_password',
      needles: [password],
    };
  },
  password_assignment: (random) => {
    const password = chars(random, ALNUM, 14);
    return { text: `password=${password}`, rule: 'key_password', needles: [password] };
  },
  token_assignment: (random) => {
    const token = chars(random, ALNUM, 24);
    return { text: `token: ${token}`, rule: 'key_token', needles: [token] };
  },
  docker_config_auth: (random) => {
    const auth = Buffer.from(`svc-ci:${chars(random, ALNUM, 18)}`).toString('base64');
    return single('key_auth', `{"auths":{"registry.example.com":{"auth":"${auth}"}}}`, auth);
  },
  npmrc_auth: (random) => {
    const auth = Buffer.from(`deploy:${chars(random, ALNUM, 18)}`).toString('base64');
    return single('key_auth', `//registry.example.com/:_auth=${auth}`, auth);
  },
  kubeconfig_client_key: (random) => {
    const key = Buffer.from(
      `-----BEGIN EC ${'PRIVATE'} KEY-----\n${chars(random, BASE64, 64)}\n-----END EC ${'PRIVATE'} KEY-----\n`,
    ).toString('base64');
    return single('key_private_key', `client-key-data: ${key}`, key);
  },
  jwk_private_key: (random) => {
    const d = chars(random, BASE64URL, 43);
    const jwk = {
      kty: 'EC',
      crv: 'P-256',
      x: chars(random, BASE64URL, 43),
      y: chars(random, BASE64URL, 43),
      d,
    };
    return single('jwk_private_key', JSON.stringify(jwk), d);
  },
  putty_private_key: (random) => {
    const secret = chars(random, BASE64, 64);
    const text = [
      'PuTTY-User-Key-File-3: ssh-ed25519',
      'Encryption: none',
      'Comment: deploy@ci',
      'Public-Lines: 2',
      chars(random, BASE64, 64),
      chars(random, BASE64, 12),
      'Private-Lines: 1',
      secret,
      `Private-MAC: ${chars(random, HEX, 64)}`,
    ].join('\n');
    return single('putty_private_key', text, secret);
  },
  pgp_private_key_with_comment: (random) => {
    const lines = Array.from({ length: 3 }, () => chars(random, BASE64, 64));
    const kind = ['PGP', 'PRIVATE KEY BLOCK'].join(' ');
    return {
      text: `-----BEGIN ${kind}-----\nComment: Alice Example <alice@example.com> (signing, 2026)\n\n${lines.join('\n')}\n=${chars(random, BASE64, 4)}\n-----END ${kind}-----`,
      rule: 'pem_private_key',
      needles: lines,
    };
  },
  url_password_with_slash_and_hash: (random) => {
    const password = `${chars(random, ALNUM, 8)}/${chars(random, ALNUM, 6)}#${chars(random, ALNUM, 6)}`;
    return single('url_credentials', `postgres://svc:${password}@db.internal:5432/app`, password);
  },
  quoted_password_with_apostrophe: (random) => {
    const tail = chars(random, ALNUM, 12);
    return {
      text: `password="${chars(random, ALNUM, 6)}'${tail}"`,
      rule: 'key_password',
      needles: [tail],
    };
  },
  sas_token_from_sig: (random) => {
    const signature = `${chars(random, BASE64URL, 43)}%3D`;
    return single('url_signature', `sig=${signature}&se=2030-01-01T00:00:00Z&sp=r&sv=2022-11-02`, signature);
  },
  oracle_connect_string: (random) => {
    const password = chars(random, ALNUM, 14);
    return single('oracle_password', `sqlplus scott/${password}@//db.example.com:1521/ORCLPDB1`, password);
  },
  mysql_command_line: (random) => {
    const password = chars(random, ALNUM, 14);
    return single('mysql_password', `mysql -h db.internal -u root -p${password} shop`, password);
  },
  netrc_entry: (random) => {
    const password = chars(random, ALNUM, 20);
    return single('netrc_password', `machine api.example.com login deploy password ${password}`, password);
  },
  terraform_cloud_token: (random) =>
    single(
      'terraform_cloud_token',
      `${chars(random, ALNUM, 14)}.${['atlas', 'v1'].join('')}.${chars(random, ALNUM, 67)}`,
    ),
  pulumi_access_token: (random) =>
    single('pulumi_access_token', ['pu', 'l-'].join('') + chars(random, HEX, 40)),
  doppler_token: (random) => single('doppler_token', ['dp', '.pt.'].join('') + chars(random, ALNUM, 43)),
  flyio_token: (random) => single('flyio_token', ['fo', '1_'].join('') + chars(random, ALNUM, 43)),
  sentry_token: (random) => single('sentry_token', ['sntr', 'yu_'].join('') + chars(random, HEX, 64)),
  postman_api_key: (random) =>
    single('postman_api_key', `${['PM', 'AK-'].join('')}${chars(random, HEX, 24)}-${chars(random, HEX, 34)}`),
  newrelic_api_key: (random) =>
    single('newrelic_api_key', ['NR', 'AK-'].join('') + chars(random, UPPER + DIGITS, 27)),
  consul_token: (random) => {
    const token = [8, 4, 4, 4, 12].map((length) => chars(random, HEX, length)).join('-');
    return single('key_token', `CONSUL_HTTP_TOKEN=${token}`, token);
  },
  card_number: (random) => {
    const [prefix, length] = [
      ['4', 16],
      ['51', 16],
      ['37', 15],
      ['6011', 16],
    ][Math.floor(random() * 4)] as [string, number];
    const digits = luhnCardNumber(random, prefix, length);
    const grouped =
      length === 15
        ? `${digits.slice(0, 4)} ${digits.slice(4, 10)} ${digits.slice(10)}`
        : digits.replace(/(\d{4})(?=\d)/g, '$1 ');
    return { text: random() < 0.5 ? digits : grouped, rule: 'card_number', needles: [digits, grouped] };
  },
};

export const FORMAT_NAMES = Object.keys(FAKE_SECRET_FORMATS);

export const fakeSecret = (format: string, random: Random): FakeSecret => {
  const generate = FAKE_SECRET_FORMATS[format];
  if (generate === undefined) throw new Error(`no fake-secret format ${format}`);
  return generate(random);
};
