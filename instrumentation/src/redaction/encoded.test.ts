import { describe, expect, it } from 'vitest';
import { createRedactor } from './index.js';

const GITHUB_TOKEN = ['gh', 'p_Zq8rT3vK9mW2xY7pL4nB6cD1fH5jS0aE8uQ3'].join('');
const redactor = createRedactor();
const b64 = (text: string) => Buffer.from(text).toString('base64');
const b64url = (text: string) => Buffer.from(text).toString('base64url');

describe('encoded secrets', () => {
  it('are found in base64 and base64url runs, and the whole run is replaced', () => {
    for (const [encoded, rule] of [
      [b64(`token: ${GITHUB_TOKEN}`), 'github_token'],
      [b64url(JSON.stringify({ password: 'hunter2-in-base64url' })), 'key_password'],
      [b64('password=hunter2-in-base64'), 'key_password'],
    ] as const) {
      const { value, byRule } = redactor.redactString(`payload ${encoded} end`);
      expect(value).toBe(`payload [REDACTED:${rule}] end`);
      expect(byRule).toEqual({ [rule]: 1 });
    }
  });

  it('are found percent-encoded, and the value is kept decoded with the secret replaced', () => {
    const { value } = redactor.redactString(
      `callback?state=abc&note=${encodeURIComponent(`password=hunter2-percent and ${GITHUB_TOKEN}`)}`,
    );
    expect(value).not.toContain('hunter2-percent');
    expect(value).not.toContain(GITHUB_TOKEN);
    expect(value).toContain('[REDACTED:github_token]');
    expect(value).toContain('state=abc');
  });

  it('leave ids, hashes and binary data alone', () => {
    for (const text of [
      '5b8efff798038103d269b633813fc60c',
      Buffer.from(Array.from({ length: 64 }, (_, index) => (index * 37) % 256)).toString('base64'),
      b64('just an ordinary sentence with nothing secret in it'),
      'path%2Fto%2Ffile.txt',
    ]) {
      expect(redactor.redactString(text).value, text).toBe(text);
    }
  });

  it('are found under every key of a structure, and a second pass changes nothing', () => {
    const once = redactor.redactValue({ header: b64(`admin:${GITHUB_TOKEN}`), list: [b64url(GITHUB_TOKEN)] });
    expect(JSON.stringify(once.value)).not.toContain(b64url(GITHUB_TOKEN));
    expect(once.count).toBe(2);
    expect(redactor.redactValue(once.value).count).toBe(0);
  });
});
