import { describe, expect, it } from 'vitest';
import { createRedactor } from './index.js';

const GITHUB_TOKEN = 'ghp_Zq8rT3vK9mW2xY7pL4nB6cD1fH5jS0aE8uQ3';
const redactor = createRedactor();

describe('markers typed by a sender', () => {
  it('do not switch detection off for the text after them', () => {
    for (const text of [
      `[REDACTED:jwt] ${GITHUB_TOKEN}`,
      `[REDACTED:x]${GITHUB_TOKEN}`,
      `[TRUNCATED:max_string_length] password=hunter2-after-marker`,
      `postgres://app:[REDACTED:url_credentials]hunter2-after-marker@db:5432/app`,
    ]) {
      const { value } = redactor.redactString(text);
      expect(value, text).not.toContain(GITHUB_TOKEN);
      expect(value, text).not.toContain('hunter2-after-marker');
    }
  });

  it('do not exempt a value under a secret key, nor a key that holds more than a marker', () => {
    const { value } = redactor.redactValue({
      password: '[REDACTED:key_password] hunter2-after-marker',
      '[REDACTED:jwt] api_key': 'sk-value-under-spoofed-key',
    });
    expect(JSON.stringify(value)).not.toContain('hunter2-after-marker');
    expect(JSON.stringify(value)).not.toContain('sk-value-under-spoofed-key');
  });

  it('leave what the engine itself wrote alone: a second pass changes nothing', () => {
    const once = redactor.redactValue({ password: 'hunter2', note: `token ${GITHUB_TOKEN}` });
    const twice = redactor.redactValue(once.value);
    expect(twice.value).toEqual(once.value);
    expect(twice.count).toBe(0);
  });
});

describe('long attribute names', () => {
  it('are judged by how they end, however long their head', () => {
    const key = `${'x'.repeat(5_000)}.password`;
    const { value } = redactor.redactAttributes({
      [key]: 'hunter2-long-key',
      [`${'y'.repeat(300)}_api_key`]: 'k-123',
    });
    expect(JSON.stringify(value)).not.toContain('hunter2-long-key');
    expect(JSON.stringify(value)).not.toContain('k-123');
  });
});
