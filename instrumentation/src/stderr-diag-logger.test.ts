import { describe, expect, it } from 'vitest';
import { createStderrDiagLogger } from './stderr-diag-logger.js';

describe('the stderr diagnostics logger', () => {
  const setUp = () => {
    const lines: string[] = [];
    let now = 0;
    const logger = createStderrDiagLogger({
      intervalMs: 60_000,
      write: (line) => lines.push(line),
      now: () => now,
    });
    return { lines, logger, advance: (ms: number) => (now += ms) };
  };

  it('writes whole lines, however long or multi-line the message', () => {
    const { lines, logger } = setUp();
    logger.error(`export failed\n${'at frame\n'.repeat(500)}`, new Error('14 UNAVAILABLE'));
    expect(lines).toHaveLength(1);
    expect(lines[0]?.endsWith('\n')).toBe(true);
    expect(lines[0]?.slice(0, -1)).not.toContain('\n');
    expect(lines[0]?.length).toBeLessThan(600);
  });

  it('writes the same failure once per interval, then says how many were suppressed', () => {
    const { lines, logger, advance } = setUp();
    for (let port = 40000; port < 40100; port += 1) logger.error(`connect ECONNREFUSED 127.0.0.1:${port}`);
    expect(lines).toHaveLength(1);
    advance(60_001);
    logger.error('connect ECONNREFUSED 127.0.0.1:41000');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain('(99 similar suppressed)');
  });
});
