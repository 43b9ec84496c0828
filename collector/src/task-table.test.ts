import { describe, expect, it } from 'vitest';
import { formatDuration } from './task-table.js';

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
