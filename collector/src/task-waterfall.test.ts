import { describe, expect, it } from 'vitest';
import type { TaskDetail, ToolCallView } from './api/views.js';
import { formatTaskWaterfall, terminalSafe } from './task-waterfall.js';

const call = (overrides: Partial<ToolCallView>): ToolCallView => ({
  spanId: 'span',
  traceId: 'trace',
  service: 'agent',
  method: 'tools/call',
  tool: 'plan_changes',
  outcome: 'success',
  errorType: null,
  durationMs: 100,
  arguments: null,
  retryOf: null,
  startTime: '2026-01-01T00:00:00.000Z',
  offsetMs: 0,
  ...overrides,
});

const detail: TaskDetail = {
  task: {
    taskId: 'task-a',
    traceIds: ['trace'],
    outcome: 'recovered',
    startTime: '2026-01-01T00:00:00.000Z',
    durationMs: 300,
    services: ['agent', 'infra-server'],
    toolCalls: 3,
    failedCalls: 1,
    retries: 1,
    inputTokens: 110,
    outputTokens: 50,
    authFailures: 0,
    feedback: null,
  },
  calls: [
    call({ spanId: 'c1', durationMs: 150, arguments: { env: 'prod', token: '[REDACTED:key_token]' } }),
    call({ spanId: 'c2', tool: 'apply_changes', outcome: 'error', errorType: 'tool_error', durationMs: 30 }),
    call({ spanId: 'c3', tool: 'apply_changes', durationMs: 60, retryOf: 'c2' }),
  ],
};

describe('mcpscope task output', () => {
  it('prints the figures, then the calls in order with duration bars, errors, linked retries and arguments', () => {
    expect(formatTaskWaterfall(detail).split('\n')).toEqual([
      'task-a  recovered  300ms  started 2026-01-01T00:00:00.000Z',
      'services agent, infra-server · 3 calls, 1 failed, 1 retry · tokens 110 in / 50 out · auth failures 0 · feedback -',
      '',
      ' #  TOOL                      SERVICE             RESULT                DURATION                                  RETRY',
      ` 1  plan_changes              agent               ok                       150ms  ${'█'.repeat(15)}`,
      '    args {"env":"prod","token":"[REDACTED:key_token]"}',
      ` 2  apply_changes             agent               error tool_error          30ms  ${'█'.repeat(3).padEnd(30)}  retried by #3`,
      ` 3  apply_changes             agent               ok                        60ms  ${'█'.repeat(6).padEnd(30)}  retry of #2`,
    ]);
  });

  it('shows control characters in span content as text, so a span cannot drive the terminal', () => {
    const hostile = '\u001b]0;owned\u0007\u001b[2Jwipe';
    expect(terminalSafe(hostile)).toBe('\\x1b]0;owned\\x07\\x1b[2Jwipe');
    const output = formatTaskWaterfall({
      task: { ...detail.task, taskId: hostile },
      calls: [call({ tool: hostile, arguments: { note: hostile } })],
    });
    // eslint-disable-next-line no-control-regex -- asserting their absence
    expect(output).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
  });
});
