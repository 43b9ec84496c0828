/** The OTLP recorded from real producers (`fixtures/producers`), as the tests replay it. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'producers');
export const PRODUCER_STACKS = ['openinference', 'traceloop'] as const;
/** The password the recorded agent sent in a tool's arguments. */
export const PRODUCER_SECRET = ['db', 'Pass', 'Word', '7d1e'].join('-');

export interface TaskTruth {
  task: string;
  rootSpan: string;
  toolCalls: number;
  failedCalls: number;
  retries: number;
  outcome: string;
  tools: string[];
  inputTokens: number;
  outputTokens: number;
}
export interface Recording {
  stack: (typeof PRODUCER_STACKS)[number];
  requests: OtlpRequest[];
  truth: { tasks: TaskTruth[]; serverHandled: unknown[] };
}
export interface OtlpSpan {
  traceId: string;
  name: string;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
}
export interface OtlpRequest {
  resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[];
}

export const spansOf = (request: OtlpRequest): OtlpSpan[] =>
  request.resourceSpans.flatMap((resource) => resource.scopeSpans.flatMap((scope) => scope.spans));

export const loadRecording = async (stack: Recording['stack']): Promise<Recording> => {
  const lines = (await readFile(join(FIXTURES, `${stack}.otlp.jsonl`), 'utf8')).trim().split('\n');
  const truth = JSON.parse(
    await readFile(join(FIXTURES, `${stack}.truth.json`), 'utf8'),
  ) as Recording['truth'];
  return { stack, requests: lines.map((line) => JSON.parse(line) as OtlpRequest), truth };
};

/** The recording moved to now, its spans' times kept relative to each other (retention, time windows). */
export const shiftedToNow = (requests: OtlpRequest[]): OtlpRequest[] => {
  const shifted = structuredClone(requests);
  const starts = shifted.flatMap(spansOf).map((span) => BigInt(span.startTimeUnixNano));
  const earliest = starts.reduce((a, b) => (a < b ? a : b));
  const offset = BigInt(Date.now()) * 1_000_000n - 60_000_000_000n - earliest;
  for (const span of shifted.flatMap(spansOf)) {
    span.startTimeUnixNano = String(BigInt(span.startTimeUnixNano) + offset);
    span.endTimeUnixNano = String(BigInt(span.endTimeUnixNano) + offset);
  }
  return shifted;
};
