import type { SpanRecord } from '../model/span.js';

const NS_PER_MS = 1_000_000n;

export interface ArrivalClamp {
  /** Spans whose times were moved back to arrival. */
  clamped: number;
  spans: SpanRecord[];
}

/**
 * Producer clocks are trusted up to `maxFutureSkewMs` past the collector's arrival time; a time later
 * than that becomes the arrival time. A span dated centuries ahead would otherwise never pass
 * retention (which compares end times with the collector's clock) and would head every list sorted by
 * time. Times in the past are kept: such a span is deleted by retention as soon as it is due.
 */
export const clampToArrival = (
  spans: readonly SpanRecord[],
  arrivalMs: number,
  maxFutureSkewMs: number,
): ArrivalClamp => {
  const arrival = BigInt(Math.trunc(arrivalMs)) * NS_PER_MS;
  const latest = arrival + BigInt(Math.trunc(maxFutureSkewMs)) * NS_PER_MS;
  const clampTime = (time: bigint) => (time > latest ? arrival : time);
  let clamped = 0;
  const result = spans.map((span) => {
    const tooLate =
      span.startTimeUnixNano > latest ||
      span.endTimeUnixNano > latest ||
      span.events.some((event) => event.timeUnixNano > latest);
    if (!tooLate) return span;
    clamped += 1;
    const endTimeUnixNano = clampTime(span.endTimeUnixNano);
    const startTimeUnixNano = clampTime(span.startTimeUnixNano);
    return {
      ...span,
      startTimeUnixNano: startTimeUnixNano > endTimeUnixNano ? endTimeUnixNano : startTimeUnixNano,
      endTimeUnixNano,
      events: span.events.map((event) => ({ ...event, timeUnixNano: clampTime(event.timeUnixNano) })),
    };
  });
  return { clamped, spans: result };
};
