import { describe, expect, it } from 'vitest';
import { formatDuration, sinceToFrom } from './task-table.js';

describe('task durations in the `mcpscope tasks` table', () => {
  it.each([
    [4.21, '4.2ms'],
    [850.4, '850ms'],
    [999.6, '1.00s'],
    [1_000, '1.00s'],
    [12_345, '12.35s'],
    [187_000, '3m07s'],
    [3_725_000, '1h02m'],
    [Number.NaN, '-'],
  ])('%s ms reads %s', (ms, shown) => {
    expect(formatDuration(ms)).toBe(shown);
  });
});

describe('--since of `mcpscope tasks`', () => {
  const now = Date.parse('2026-12-05T12:00:00.000Z');
  it.each([
    ['90s', '2026-12-05T11:58:30.000Z'],
    ['15m', '2026-12-05T11:45:00.000Z'],
    ['2h', '2026-12-05T10:00:00.000Z'],
    ['1.5d', '2026-12-04T00:00:00.000Z'],
  ])('%s back from now', (since, from) => {
    expect(sinceToFrom(since, now)).toBe(from);
  });
  it('passes anything else to the API as it is (ISO 8601, Unix ms)', () => {
    expect(sinceToFrom('2026-12-01T00:00:00Z', now)).toBe('2026-12-01T00:00:00Z');
    expect(sinceToFrom('1764547200000', now)).toBe('1764547200000');
  });
});
