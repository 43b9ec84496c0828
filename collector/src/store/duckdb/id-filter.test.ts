import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { IdFilter } from './id-filter.js';

const ids = (count: number) => Array.from({ length: count }, () => randomBytes(16).toString('hex'));

describe('id filter', () => {
  it('never answers "absent" for an id it was given, however far it grew', () => {
    const filter = new IdFilter(1_000);
    const added = ids(200_000);
    for (const id of added) filter.add(id);
    expect(added.filter((id) => !filter.mayHave(id))).toEqual([]);
  });

  it('answers "maybe" for few ids it was never given', () => {
    const filter = new IdFilter(1_000);
    for (const id of ids(200_000)) filter.add(id);
    const strangers = ids(100_000);
    const falsePositives = strangers.filter((id) => filter.mayHave(id)).length;
    // Several filters are asked, each at ~0.3%: the rate stays around a percent.
    expect(falsePositives / strangers.length).toBeLessThan(0.02);
    // Twelve bits per id, give or take the growth.
    expect(filter.bytes).toBeLessThan(200_000 * 4);
  });
});
