import { describe, expect, it } from 'vitest';
import { BUILT_IN_RULES, createRedactor, redactionMarker } from './index.js';
import { FORMAT_NAMES, fakeSecret, seededRandom, type FakeSecret } from './test-support/fake-secrets.js';

const redactor = createRedactor();

/** Five ways a secret reaches tool arguments: prose, commands, JSON documents in strings, YAML, arrays. */
const PLACEMENTS: ReadonlyArray<(secret: string) => unknown> = [
  (secret) => ({ note: `rotate ${secret} before the Friday change window` }),
  (secret) => ({
    steps: [{ run: 'terraform init' }, { run: `deploy --credential "${secret}" --region eu-west-1` }],
  }),
  (secret) => ({ payload: JSON.stringify({ env: [{ name: 'UPSTREAM', value: secret }] }) }),
  (secret) => ({ batches: [JSON.stringify([{ cmd: JSON.stringify({ argv: ['login', secret] }) }])] }),
  (secret) => ({
    manifest: `apiVersion: v1\nkind: ConfigMap\ndata:\n  note: ${secret}\n  region: eu-west-1\n`,
  }),
];

const buildCorpus = (perFormat: number): FakeSecret[] => {
  const random = seededRandom(20_260_124);
  return FORMAT_NAMES.flatMap((format) =>
    Array.from({ length: perFormat }, () => fakeSecret(format, random)),
  );
};

describe('built-in detectors over a corpus of fake secrets', () => {
  const corpus = buildCorpus(2);
  const toolArguments = {
    task: 'rotate credentials for the prod state bucket',
    calls: corpus.map((secret, index) => PLACEMENTS[index % PLACEMENTS.length]?.(secret.text)),
  };

  it('holds enough secrets in enough formats to mean something', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(60);
    expect(new Set(corpus.map((secret) => secret.rule)).size).toBeGreaterThanOrEqual(18);
  });

  it('leaves none of them in the output, and credits each to its rule exactly once', () => {
    const result = redactor.redactValue(toolArguments);
    const output = JSON.stringify(result.value);
    for (const secret of corpus) {
      for (const needle of secret.needles)
        expect(output, `${secret.rule}: ${secret.text}`).not.toContain(needle);
    }
    const expected: Record<string, number> = {};
    for (const secret of corpus) expected[secret.rule] = (expected[secret.rule] ?? 0) + 1;
    expect(result.byRule).toEqual(expected);
    expect(result.count).toBe(corpus.length);
    expect(result.value).toMatchObject({ task: 'rotate credentials for the prod state bucket' });
  });

  it.each(FORMAT_NAMES)('%s: replaced by its marker inside free text', (format) => {
    const secret = fakeSecret(format, seededRandom(format.length * 7919));
    const result = redactor.redactString(`error calling upstream with ${secret.text} (retrying)`);
    expect(result.value).toContain(redactionMarker(secret.rule));
    for (const needle of secret.needles) expect(result.value).not.toContain(needle);
    expect(result.value.startsWith('error calling upstream with ')).toBe(true);
    // A PEM block cut before its END line runs on to the first character a key cannot hold.
    if (format !== 'pem_private_key_truncated') expect(result.value.endsWith(' (retrying)')).toBe(true);
  });

  it('finds card numbers at the end of a sentence but not inside decimals or longer numbers', () => {
    const card = ['4111', '1111', '1111', '1111'].join(' ');
    expect(redactor.redactString(`charge it to ${card}.`).value).toBe('charge it to [REDACTED:card_number].');
    expect(redactor.redactString(`ratio 0.${card.replace(/ /g, '')}`).count).toBe(0);
    expect(redactor.redactString(`id 9${card.replace(/ /g, '')}`).count).toBe(0);
  });

  it('keeps the context around a partial match: scheme, user and host of a URL, the header name', () => {
    expect(redactor.redactString('postgres://app:Zq81xkPl0w@db.internal:5432/app').value).toBe(
      'postgres://app:[REDACTED:url_credentials]@db.internal:5432/app',
    );
    expect(redactor.redactString('Authorization: Bearer 9f8e7d6c5b4a39281706').value).toBe(
      'Authorization: Bearer [REDACTED:bearer_token]',
    );
    expect(redactor.redactString('Authorization: Bearer abc').value).toBe(
      'Authorization: [REDACTED:key_authorization]',
    );
  });
});

describe('key rules', () => {
  const cases: ReadonlyArray<[string, string]> = [
    ['password', 'key_password'],
    ['dbPassword', 'key_password'],
    ['DB_PASSWORD', 'key_password'],
    ['db.password', 'key_password'],
    ['db-passwd', 'key_password'],
    ['pwd', 'key_password'],
    ['client_secret', 'key_client_secret'],
    ['clientSecret', 'key_client_secret'],
    ['CLIENT-SECRET', 'key_client_secret'],
    ['secret', 'key_secret'],
    ['aws_secret_access_key', 'key_secret'],
    ['SecretAccessKey', 'key_secret'],
    ['token', 'key_token'],
    ['access_token', 'key_token'],
    ['refreshToken', 'key_token'],
    ['id-token', 'key_token'],
    ['api_token', 'key_token'],
    ['X-Auth-Token', 'key_token'],
    ['apiKey', 'key_api_key'],
    ['api-key', 'key_api_key'],
    ['x-api-key', 'key_api_key'],
    ['API_KEY', 'key_api_key'],
    ['OPENAI_API_KEY', 'key_api_key'],
    ['Authorization', 'key_authorization'],
    ['http.request.header.authorization', 'key_authorization'],
    ['proxy-authorization', 'key_authorization'],
    ['credentials', 'key_credential'],
    ['Credential', 'key_credential'],
    ['cookie', 'key_cookie'],
    ['Set-Cookie', 'key_cookie'],
    ['http.response.header.set-cookie', 'key_cookie'],
    ['privateKey', 'key_private_key'],
    ['private_key', 'key_private_key'],
    ['sessionKey', 'key_session_key'],
    ['connectionString', 'key_connection_string'],
    ['CONNECTION_STRING', 'key_connection_string'],
    ['passphrase', 'key_passphrase'],
    ['signature', 'key_signature'],
    ['X-Hub-Signature-256', 'key_signature'],
    ['SECRET_KEY_BASE', 'key_secret'],
    ['secretKeyBase', 'key_secret'],
    ['hmac_key', 'key_secret'],
    ['decryption_key', 'key_secret'],
    ['TS_AUTHKEY', 'key_secret'],
    ['recovery_key', 'key_secret'],
    ['totp_seed', 'key_secret'],
    ['master_key', 'key_secret'],
    ['encryptionKey', 'key_secret'],
    ['signing_key', 'key_secret'],
    ['webhook_secret', 'key_secret'],
    ['mnemonic', 'key_passphrase'],
    ['MNEMONIC_PHRASE', 'key_passphrase'],
    ['seed_phrase', 'key_passphrase'],
    ['seedPhrase', 'key_passphrase'],
    ['recovery-phrase', 'key_passphrase'],
    ['wallet_seed', 'key_passphrase'],
    ['GPG_PASSPHRASE', 'key_passphrase'],
  ];

  it.each(cases)('%s: the whole value becomes the %s marker', (key, rule) => {
    const values: unknown[] = ['plain-Value-1', 424242, { nested: 'x', deeper: [1, 2] }, ['a', 'b']];
    for (const value of values) {
      const result = redactor.redactValue({ [key]: value, region: 'eu-west-1' });
      expect(result.value).toEqual({ [key]: redactionMarker(rule), region: 'eu-west-1' });
      expect(result.byRule).toEqual({ [rule]: 1 });
    }
  });

  it.each(cases)('%s=value in free text fires %s', (key, rule) => {
    const result = redactor.redactString(`retry with ${key}=Zx81-value-0193 and region=eu-west-1`);
    expect(result.value).toBe(`retry with ${key}=${redactionMarker(rule)} and region=eu-west-1`);
    expect(result.byRule).toEqual({ [rule]: 1 });
  });

  it('applies to attribute names and leaves mcpscope and token-usage attributes alone', () => {
    const attributes = {
      'http.request.header.authorization': ['Bearer abc'],
      'db.password': 'hunter2',
      'mcpscope.arguments.fingerprint':
        'hmac-sha256:9b2f0c1d4e5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e',
      'mcpscope.auth.reason': 'expired_token',
      'mcpscope.auth.outcome': 'failure',
      'mcpscope.redaction.count': 3,
      'gen_ai.usage.input_tokens': 1234,
      'gen_ai.usage.output_tokens': 56,
      'llm.token_count.prompt': 900,
      'gen_ai.token.type': 'input',
      'ai.usage.promptTokens': 12,
      'mcp.session.id': '5c0a7f3e-2b1d-4e8f-9a6b-3c2d1e0f9a8b',
    };
    const result = redactor.redactAttributes(attributes);
    expect(result.value).toEqual({
      ...attributes,
      'http.request.header.authorization': '[REDACTED:key_authorization]',
      'db.password': '[REDACTED:key_password]',
    });
    expect(result).toMatchObject({ count: 2, byRule: { key_authorization: 1, key_password: 1 } });
  });

  it('does not treat counters, cursors or progress tokens as credentials', () => {
    const value = {
      tokens: 1234,
      input_tokens: 800,
      max_tokens: 4096,
      token_count: 17,
      token_type: 'Bearer',
      maxTokens: 2048,
      _meta: { progressToken: 'p-42' },
      nextPageToken: 'CAESBggCEAEYAQ',
      secretName: 'prod-db',
      passwordPolicy: 'min-length-14',
    };
    expect(redactor.redactValue(value)).toEqual({ value, count: 0, byRule: {} });
  });

  it('does not treat seeds, key ids or names of secrets as secrets', () => {
    const value = {
      seed: 42,
      random_seed: 7,
      seedCount: 3,
      key: 'region',
      key_id: 'k-1',
      encryption_key_id: 'alias/prod',
      public_key: 'ed25519 pub',
      mnemonic_index: 4,
      secret_key_base_rotated_at: '2026-01-01',
      keyboard: 'us',
    };
    expect(redactor.redactValue(value)).toEqual({ value, count: 0, byRule: {} });
    const text = 'seed=42 key_id=k-1 keyboard=us random_seed: 7';
    expect(redactor.redactString(text)).toEqual({ value: text, count: 0, byRule: {} });
  });

  it('keeps empty, null and boolean values under secret keys: they reveal nothing', () => {
    const value = { password: '', token: null, has_secret: true, apiKey: undefined };
    expect(redactor.redactValue(value)).toMatchObject({ value, count: 0 });
  });
});

describe('false positives: what must survive untouched', () => {
  const survivors = [
    'Plan: 3 to add, 1 to change, 0 to destroy.',
    'aws_instance.web[0] will be updated in-place',
    'module.network.aws_subnet.private["eu-west-1a"]',
    'arn:aws:iam::123456789012:role/deploy',
    'region us-east-1, zone europe-west4-b, location westeurope',
    '5c0a7f3e-2b1d-4e8f-9a6b-3c2d1e0f9a8b',
    'commit 3f5a9c1e7b2d4f6a8c0e1b3d5f7a9c2e4b6d8f0a on main',
    'short sha 3f5a9c1',
    '2026-11-24T05:13:49.123Z',
    '1732425229123',
    'tokens: 1234',
    'input_tokens=800 output_tokens=120 max_tokens=4096 token_count: 17',
    'plan id plan-2024-11-24-0001, run-0192f3a4',
    'The API uses Bearer authentication; see the token docs.',
    'Basic information about the cluster',
    'sk-this-is-not-a-key-at-all-really',
    'risk-assessment-for-migration-runbook',
    'Task ask-0123456789abcdef0123 queued',
    'phone +1 555 123 4567, order 1234 5678 9012',
    'pi is 3.14159265358979323846 and e is 2.7182818284590452353',
    'price 4111 USD on 2024-01-15',
    'https://registry.terraform.io/providers/hashicorp/aws/latest/docs',
    'https://example.com:8443/path?page=2&limit=50',
    'password_min_length = 14',
    'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ deploy@bastion',
    '{"name":"plan_changes","arguments":{"workspace":"prod","targets":["aws_s3_bucket.state"]}}',
  ];

  it.each(survivors)('%s', (text) => {
    expect(redactor.redactString(text)).toEqual({ value: text, count: 0, byRule: {} });
  });

  it('keeps numbers, booleans and ordinary structure as they were', () => {
    const value = {
      replicas: 3,
      ratio: 0.25,
      enabled: false,
      when: null,
      tags: ['prod', 'eu'],
      nested: { depth: [1, [2, [3]]] },
    };
    expect(redactor.redactValue(value)).toEqual({ value, count: 0, byRule: {} });
  });
});

describe('AWS secret access keys next to their key id', () => {
  const id = ['AK', 'IA'].join('') + 'Z7XK3PQ9RMT2LWVB';
  const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

  it.each([
    [
      `my aws key ${id} secret ${secret}`,
      `my aws key [REDACTED:aws_access_key_id] secret [REDACTED:aws_secret_access_key]`,
    ],
    [`${id},${secret}\n`, `[REDACTED:aws_access_key_id],[REDACTED:aws_secret_access_key]\n`],
    [
      `{'id': '${id.replace('AKIA', 'ASIA')}', 'key': '${secret}'}`,
      `{'id': '[REDACTED:aws_access_key_id]', 'key': '[REDACTED:aws_secret_access_key]'}`,
    ],
    [
      `creds: ${id} / the-secret-is: ${secret}.`,
      `creds: [REDACTED:aws_access_key_id] / the-secret-is: [REDACTED:aws_secret_access_key].`,
    ],
  ])('%s', (text, expected) => {
    expect(redactor.redactString(text)).toEqual({
      value: expected,
      count: 2,
      byRule: { aws_secret_access_key: 1, aws_access_key_id: 1 },
    });
  });

  it('leaves a git commit or a hex digest after a key id alone', () => {
    const sha = '3f5a9c1e7b2d4f6a8c0e1b3d5f7a9c2e4b6d8f0a';
    expect(redactor.redactString(`${id} rotated in commit ${sha}`).value).toBe(
      `[REDACTED:aws_access_key_id] rotated in commit ${sha}`,
    );
  });
});

describe('passwords set in SQL', () => {
  it.each([
    [
      "ALTER USER app WITH PASSWORD 'Pw-123-secret';",
      "ALTER USER app WITH PASSWORD '[REDACTED:sql_password]';",
    ],
    ["CREATE USER x IDENTIFIED BY 'secret'", "CREATE USER x IDENTIFIED BY '[REDACTED:sql_password]'"],
    ['CREATE USER x IDENTIFIED BY "secret"', 'CREATE USER x IDENTIFIED BY "[REDACTED:sql_password]"'],
    [
      "create user 'svc'@'%' identified with caching_sha2_password by 'Zx9!q'",
      "create user 'svc'@'%' identified with caching_sha2_password by '[REDACTED:sql_password]'",
    ],
    ["SET PASSWORD = 'x'", "SET PASSWORD = '[REDACTED:sql_password]'"],
    ["SET PASSWORD FOR 'app'@'%' = 'n3w-Pass'", "SET PASSWORD FOR 'app'@'%' = '[REDACTED:sql_password]'"],
    ["SELECT PASSWORD('x')", "SELECT PASSWORD('[REDACTED:sql_password]')"],
    [
      "CREATE ROLE r LOGIN ENCRYPTED PASSWORD 'it''s-a\\'secret'",
      "CREATE ROLE r LOGIN ENCRYPTED PASSWORD '[REDACTED:sql_password]'",
    ],
    [
      '{"sql": "ALTER USER app IDENTIFIED BY \\"Pw-1\\"", "t": 1',
      '{"sql": "ALTER USER app IDENTIFIED BY \\"[REDACTED:sql_password]\\"", "t": 1',
    ],
  ])('%s', (statement, expected) => {
    expect(redactor.redactString(statement)).toEqual({
      value: expected,
      count: 1,
      byRule: { sql_password: 1 },
    });
  });

  it('finds them after an escaped newline, as in a JSON string scanned as text', () => {
    const text = String.raw`"migrate:\nSET PASSWORD FOR 'svc'@'%' = 'Zx81-q'\n"`;
    expect(redactor.redactString(text).value).toBe(
      String.raw`"migrate:\nSET PASSWORD FOR 'svc'@'%' = '[REDACTED:sql_password]'\n"`,
    );
  });

  it('leaves SQL that names passwords without setting one alone', () => {
    const survivors = [
      'SELECT password_changed_at FROM users',
      'ALTER USER app PASSWORD EXPIRE INTERVAL 90 DAY',
      "UPDATE users SET password_hash = NULL WHERE name = 'ops'",
    ];
    for (const text of survivors)
      expect(redactor.redactString(text)).toEqual({ value: text, count: 0, byRule: {} });
  });
});

describe('name=value pairs with long values', () => {
  it.each([
    ['mysql --password=', 'p'.repeat(300) + 'LONGTAIL7', ' --host db', 'key_password'],
    ['client_secret=', 'x'.repeat(400), '', 'key_client_secret'],
    ['export API_TOKEN=', 'Zq9-'.repeat(100) + 'TAIL', '; make deploy', 'key_token'],
    ['{"password": "', 'correct horse '.repeat(30) + 'TAIL', '", "user": "ops"', 'key_password'],
    ['{\\"secret\\":\\"', 'Ab1/'.repeat(80) + 'TAIL', '\\"}', 'key_secret'],
  ])('%s<long value> loses the whole value, up to its delimiter', (head, value, tail, rule) => {
    const result = redactor.redactString(head + value + tail);
    expect(result.value).toBe(head + redactionMarker(rule) + tail);
    expect(result.byRule).toEqual({ [rule]: 1 });
  });

  it('still ends a long value at its delimiter, so the next pair is judged on its own', () => {
    const text = `password=${'p'.repeat(600)}&region=eu-west-1&token=${'t'.repeat(300)} done`;
    expect(redactor.redactString(text).value).toBe(
      'password=[REDACTED:key_password]&region=eu-west-1&token=[REDACTED:key_token] done',
    );
  });
});

describe('structure', () => {
  it('never mutates its input', () => {
    const input = { password: 'hunter2', list: [{ token: 'abc' }], text: 'key sk_live_Z9a8b7c6d5e4f3g2h1' };
    const copy = structuredClone(input);
    redactor.redactValue(input);
    expect(input).toEqual(copy);
  });

  it('redacts JSON inside strings structurally and re-serialises it', () => {
    const result = redactor.redactValue({ body: JSON.stringify({ user: 'ops', password: 'hunter2', n: 1 }) });
    expect(result.value).toEqual({ body: '{"user":"ops","password":"[REDACTED:key_password]","n":1}' });
  });

  it('keeps a JSON string with nothing to redact byte for byte', () => {
    const body = '{ "user": "ops",\n  "n": 1 }';
    expect(redactor.redactValue({ body }).value).toEqual({ body });
  });

  it('survives cycles and shared references', () => {
    const shared = { region: 'eu-west-1' };
    const loop: Record<string, unknown> = { name: 'loop', shared, again: shared };
    loop.self = loop;
    const result = redactor.redactValue(loop);
    expect(result.value).toEqual({ name: 'loop', shared, again: shared, self: '[CIRCULAR]' });
  });

  it('replaces subtrees deeper than maxDepth with a marker', () => {
    let deep: unknown = { secret: 'x' };
    for (let level = 0; level < 40; level++) deep = { level, child: deep };
    const output = JSON.stringify(createRedactor({ maxDepth: 5 }).redactValue(deep).value);
    expect(output).toContain('[TRUNCATED:max_depth]');
    expect(output.match(/"level"/g)).toHaveLength(5);
  });

  it('stops after maxNodes values and says so', () => {
    const items = Array.from({ length: 100_000 }, (_, index) => ({ index }));
    const result = createRedactor({ maxNodes: 1000 }).redactValue(items);
    const output = result.value as unknown[];
    expect(output.length).toBeLessThanOrEqual(1000);
    expect(output[output.length - 1]).toBe('[TRUNCATED:max_nodes]');
  });

  it('cuts long strings with a marker, never leaving the head of a token at the cut', () => {
    const token = 'ghp_' + 'Zz9'.repeat(12);
    const text = 'x'.repeat(90) + ' ' + token;
    const result = createRedactor({ maxStringLength: 120 }).redactString(text).value;
    expect(result.length).toBeLessThanOrEqual(120);
    expect(result.endsWith('[TRUNCATED:max_string_length]')).toBe(true);
    expect(result).not.toContain('ghp_');
  });

  it('redacts a JSON document longer than maxStringLength by its keys before cutting it', () => {
    const result = redactor.redactString(JSON.stringify({ password: 'x'.repeat(5000) + 'TAIL' }));
    expect(result).toEqual({
      value: '{"password":"[REDACTED:key_password]"}[TRUNCATED:max_string_length]',
      count: 1,
      byRule: { key_password: 1 },
    });
    // A secret only its key names (an object, not text), then enough log lines to pass the cap.
    const long = redactor.redactString(
      JSON.stringify({ credentials: { user: 'ops', pin: '4821 9932' }, log: 'line '.repeat(1500) }),
    ).value;
    expect(long.startsWith('{"credentials":"[REDACTED:key_credential]","log":"line line')).toBe(true);
    expect(long.endsWith('[TRUNCATED:max_string_length]')).toBe(true);
    expect(long.length).toBeLessThanOrEqual(4096);
    expect(long).not.toContain('4821');
  });

  it('still replaces the whole value of a JSON document too long to parse', () => {
    const result = redactor.redactString(JSON.stringify({ password: 'x'.repeat(300_000) + 'TAIL' })).value;
    expect(result).toBe('{"password":"[REDACTED:key_password][TRUNCATED:max_string_length]');
  });

  it('finds a secret across the cut whole, leaving none of it before the marker', () => {
    const header = Buffer.from(JSON.stringify({ alg: 'RS256', kid: 'k'.repeat(900) })).toString('base64url');
    const jwt = `${header}.${'Pq7'.repeat(200)}.${'Sg4_'.repeat(50)}`;
    const beforeJwt = redactor.redactString(`${'x '.repeat(1500)}${jwt} done`).value;
    expect(beforeJwt).toContain('[REDACTED:jwt]');
    expect(beforeJwt).not.toContain('eyJ');
    const password = 'correct horse battery staple '.repeat(20);
    const beforePassword = redactor.redactString(`${'x '.repeat(1990)}password="${password}" done`).value;
    expect(beforePassword).toContain('password="[REDACTED:key_password]');
    expect(beforePassword).not.toMatch(/horse|battery|staple/);
  });

  it('turns values JSON cannot hold into ones it can', () => {
    const result = redactor.redactValue({ big: 10n, when: new Date(0), fn: () => 1, sym: Symbol('s') });
    expect(JSON.parse(JSON.stringify(result.value))).toEqual({ big: '10', when: '1970-01-01T00:00:00.000Z' });
  });

  it('does not let throwing getters or toJSON methods escape', () => {
    const hostile = {
      get broken(): string {
        throw new Error('getter');
      },
      odd: {
        toJSON: () => {
          throw new Error('toJSON');
        },
        password: 'hunter2',
      },
    };
    const result = redactor.redactValue(hostile);
    expect(JSON.parse(JSON.stringify(result.value))).toEqual({
      odd: { password: '[REDACTED:key_password]' },
    });
  });

  it('counts user rules named like Object.prototype members correctly', () => {
    const custom = createRedactor({ rules: [{ name: 'constructor', value: /zzsecretzz/ }] });
    expect(custom.redactString('zzsecretzz').byRule).toEqual({ constructor: 1 });
  });

  it('redacts secrets used as object keys, keeping distinct entries apart', () => {
    const first = 'ghp_' + 'Ab1'.repeat(12);
    const second = 'ghp_' + 'Cd2'.repeat(12);
    const result = redactor.redactValue({ [first]: 1, [second]: 2 });
    expect(result.value).toEqual({ '[REDACTED:github_token]': 1, '[REDACTED:github_token]#2': 2 });
  });
});

describe('user rules and the rule table', () => {
  it('applies user key and value rules next to the built-ins', () => {
    const custom = createRedactor({
      rules: [
        { name: 'internal_ticket_secret', value: /TKT-[0-9]{6}-[A-Z]{4}/ },
        { name: 'vault_path', key: /^vault[_-]?path$/i },
      ],
    });
    const result = custom.redactValue({
      note: 'use TKT-123456-ABCD now',
      vaultPath: 'kv/prod/db',
      password: 'x1',
    });
    expect(result.value).toEqual({
      note: 'use [REDACTED:internal_ticket_secret] now',
      vaultPath: '[REDACTED:vault_path]',
      password: '[REDACTED:key_password]',
    });
    expect(result.byRule).toEqual({ internal_ticket_secret: 1, vault_path: 1, key_password: 1 });
  });

  it('applies user key rules to name=value pairs in text too', () => {
    const custom = createRedactor({ rules: [{ name: 'pin', key: /^pin$/i }] });
    expect(custom.redactString('card pin=4821 accepted').value).toBe('card pin=[REDACTED:pin] accepted');
  });

  it('keeps rule names lowercase snake_case in markers', () => {
    const custom = createRedactor({ rules: [{ name: 'My Rule!', value: /zzsecretzz/ }] });
    expect(custom.redactString('a zzsecretzz b').value).toBe('a [REDACTED:my_rule] b');
  });

  it('has unique, snake_case built-in rule names, each with exactly one kind of pattern', () => {
    const names = BUILT_IN_RULES.map((rule) => rule.name);
    expect(new Set(names).size).toBe(names.length);
    for (const rule of BUILT_IN_RULES) {
      expect(rule.name).toMatch(/^[a-z][a-z0-9_]*$/);
      expect((rule.key === undefined) !== (rule.value === undefined)).toBe(true);
    }
  });

  it('writes markers that name the rule and nothing else', () => {
    expect(redactionMarker('jwt')).toBe('[REDACTED:jwt]');
  });
});
