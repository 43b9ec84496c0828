import { describe, expect, it } from 'vitest';
import { WorkBudget } from './work-budget.js';

describe('WorkBudget', () => {
  it('admits requests while their bytes fit, and one alone whatever its size', () => {
    const budget = new WorkBudget({ capacityBytes: 100 });
    const large = budget.tryReserve(500);
    expect(large?.bytes, 'alone, a request larger than the budget still runs').toBe(500);
    expect(budget.tryReserve(1)).toBeUndefined();
    large?.release();
    const first = budget.tryReserve(60);
    expect(budget.tryReserve(50)).toBeUndefined();
    expect(budget.tryReserve(40)).toBeDefined();
    expect(budget.bytesInProgress).toBe(100);
    first?.release();
    first?.release();
    expect(budget.bytesInProgress).toBe(40);
  });

  it('lets a reservation grow only into free room, and always shrink', () => {
    const budget = new WorkBudget({ capacityBytes: 100 });
    const inflating = budget.tryReserve(10)!;
    const other = budget.tryReserve(30)!;
    expect(inflating.resize(70)).toBe(true);
    expect(inflating.resize(71), 'past the budget').toBe(false);
    expect(inflating.bytes).toBe(70);
    expect(inflating.resize(5)).toBe(true);
    expect(budget.bytesInProgress).toBe(35);
    other.release();
    expect(inflating.resize(1_000), 'alone again').toBe(true);
    inflating.release();
    expect(budget.bytesInProgress).toBe(0);
    expect(inflating.resize(1), 'a released reservation holds nothing').toBe(false);
  });

  it('lets requests wait for room first come first served, for a bounded time and in bounded number', async () => {
    const budget = new WorkBudget({ capacityBytes: 100, maxWaiting: 2 });
    const running = budget.tryReserve(80)!;
    const first = budget.reserve(50, 1_000);
    const second = budget.reserve(30, 1_000);
    expect(budget.tryReserve(21), 'what does not fit waits').toBeUndefined();
    expect(budget.tryReserve(20)?.bytes, 'what fits now goes ahead').toBe(20);
    expect(await budget.reserve(40, 1_000), 'the line is full').toBeUndefined();
    running.release();
    expect((await first)?.bytes).toBe(50);
    expect((await second)?.bytes).toBe(30);
    expect(await budget.reserve(90, 20), 'no room came in time').toBeUndefined();
    expect(budget.bytesInProgress).toBe(100);
  });
});
