import { createRedactor } from '@mcpscope/instrumentation/redaction';
import { describe, expect, it } from 'vitest';
import type { SpanRecord } from '../model/span.js';
import { redactSpans } from './redact-spans.js';

const GITHUB_TOKEN = 'ghp_Zq8rT3vK9mW2xY7pL4nB6cD1fH5jS0aE8uQ3';
const ANTHROPIC_KEY = 'sk-ant-api03-Zq8rT3vK9mW2xY7pL4nB6cD1fH5jS0aE8uQ3';

const span = (overrides: Partial<SpanRecord> = {}): SpanRecord => ({
  traceId: '5b8efff798038103d269b633813fc60c',
  spanId: 'eee19b7ec3c1b174',
  parentSpanId: null,
  name: 'tools/call search',
  kind: 'server',
  startTimeUnixNano: 1n,
  endTimeUnixNano: 2n,
  statusCode: 'unset',
  statusMessage: '',
  serviceName: 'svc',
  scopeName: 'scope',
  attributes: {},
  resourceAttributes: { 'service.name': 'svc' },
  events: [],
  links: [],
  ...overrides,
});

describe('redactSpans', () => {
  const redactor = createRedactor();

  it('catches arguments that third-party instrumentations record under their own names', () => {
    const names = [
      'traceloop.entity.input',
      'input.value',
      'mcp.request.argument.query',
      'gen_ai.prompt',
      'ai.toolCall.args',
      'llm.input_messages.0.message.content',
      'langfuse.observation.input',
    ];
    const attributes = Object.fromEntries(
      names.map((name) => [name, JSON.stringify({ query: 'open issues', note: `token ${GITHUB_TOKEN}` })]),
    );
    const { spans, count, byRule } = redactSpans([span({ attributes })], redactor);

    for (const name of names) {
      const value = spans[0]!.attributes[name] as string;
      expect(value, name).not.toContain(GITHUB_TOKEN);
      expect(value, name).toContain('[REDACTED:github_token]');
      expect(value, name).toContain('open issues');
    }
    expect(count).toBe(names.length);
    expect(byRule).toEqual({ github_token: names.length });
  });

  it('redacts event, link and resource attributes, event names and status messages', () => {
    const { spans, count } = redactSpans(
      [
        span({
          statusCode: 'error',
          statusMessage: `request failed: key ${ANTHROPIC_KEY} rejected`,
          resourceAttributes: { 'service.name': 'svc', 'deploy.note': GITHUB_TOKEN },
          events: [
            {
              name: `exception: bad key ${ANTHROPIC_KEY}`,
              timeUnixNano: 1n,
              attributes: {
                'exception.message': `bad key ${ANTHROPIC_KEY}`,
                'exception.stacktrace': `at x (${GITHUB_TOKEN})`,
              },
            },
          ],
          links: [
            { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), attributes: { 'db.password': 'hunter2' } },
          ],
        }),
      ],
      redactor,
    );
    const serialized = JSON.stringify(spans, (_key, value: unknown) =>
      typeof value === 'bigint' ? String(value) : value,
    );
    expect(serialized).not.toContain(ANTHROPIC_KEY);
    expect(serialized).not.toContain(GITHUB_TOKEN);
    expect(serialized).not.toContain('hunter2');
    expect(spans[0]!.statusMessage).toBe('request failed: key [REDACTED:anthropic_api_key] rejected');
    expect(spans[0]!.links[0]!.attributes['db.password']).toBe('[REDACTED:key_password]');
    expect(count).toBe(6);
  });

  it('redacts span names, which other instrumentations build from URLs', () => {
    const { spans, count } = redactSpans(
      [span({ name: `GET /repos?access_token=${GITHUB_TOKEN}` })],
      redactor,
    );
    expect(spans[0]!.name).not.toContain(GITHUB_TOKEN);
    expect(spans[0]!.name).toMatch(/^GET \/repos\?access_token=\[REDACTED:/);
    expect(count).toBe(1);
  });

  it('leaves clean spans as they were and redacts a shared resource once', () => {
    const resourceAttributes = { 'service.name': 'svc', note: GITHUB_TOKEN };
    const clean = span({ attributes: { 'gen_ai.tool.name': 'search', 'server.port': 443, retried: false } });
    const { spans, count } = redactSpans(
      [
        { ...clean, resourceAttributes },
        { ...clean, spanId: 'eee19b7ec3c1b175', resourceAttributes },
      ],
      redactor,
    );
    expect(spans[0]!.attributes).toEqual(clean.attributes);
    expect(spans[1]!.resourceAttributes.note).toBe('[REDACTED:github_token]');
    expect(count).toBe(1);
  });

  it('redacts scope names, which producers set freely', () => {
    const { spans, count } = redactSpans([span({ scopeName: `lib?token=${GITHUB_TOKEN}` })], redactor);
    expect(spans[0]!.scopeName).not.toContain(GITHUB_TOKEN);
    expect(spans[0]!.scopeName).toContain('[REDACTED:');
    expect(count).toBe(1);
  });
});
