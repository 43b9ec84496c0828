import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCollectorProcess, type CollectorProcess } from '../support/collector-process.js';
import { freePort } from '../support/processes.js';
import { toProtobuf, validJsonRequest } from './support/otlp-bodies.js';
import {
  precompressedGrpcTraceClient,
  rawGrpcTraceClient,
  type GrpcAnswer,
} from './support/raw-otlp-clients.js';

const TOKEN = 'flood-test-token-0123456789abcdef';
const FLOOD_REQUESTS = 200;
/** Each flood message inflates to just under the 16 MiB per-message cap: 200 of them were 3.2 GB. */
const INFLATED_BYTES = 16 * 1024 * 1024 - 1024;
/** 16 MiB of zeros, about 16 KB gzip-compressed: 200 of them are 3.2 MB on the wire. */
const BOMB = gzipSync(Buffer.alloc(INFLATED_BYTES));
/**
 * Peak resident memory the collector may reach during a flood. It idles near 150 MB (DuckDB and
 * Node); one inflated message and its work budget (32 MiB) add well under 200 MB more.
 */
const PEAK_RSS_LIMIT = 450 * 1024 * 1024;
/** A valid export during the flood may take this many times its latency before the flood, at most. */
const LATENCY_FACTOR = 10;
/** …or this long, whichever is more: single-digit millisecond baselines make factors meaningless. */
const LATENCY_FLOOR_MS = 1_500;

/** Peak and current resident memory of a process, from the kernel's own accounting. */
const residentMemory = (pid: number) => {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { peak: kib('VmHWM') * 1024, current: kib('VmRSS') * 1024 };
};

const bearer = (token: string) => {
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  return metadata;
};

let directory: string;
let collector: CollectorProcess;
let grpcPort: number;
let pid: number;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'mcpscope-flood-'));
  grpcPort = await freePort();
  collector = await startCollectorProcess({
    httpPort: await freePort(),
    grpcPort,
    dbPath: join(directory, 'flood.duckdb'),
    // What authentication itself costs under the flood is measured here; the per-address limit on
    // failures (auth-throttling.test.ts) would answer most of it earlier, and then the valid exports too.
    extraArgs: ['--auth-tokens', TOKEN, '--auth-failure-limit', '100000'],
  });
  pid = collector.process.child.pid!;
}, 60_000);

afterAll(async () => {
  await collector?.process.stop();
  if (directory) await rm(directory, { recursive: true, force: true });
});

/** A valid export with the right token, and how long its answer took. */
const timedValidExport = async (client: ReturnType<typeof rawGrpcTraceClient>, label: string) => {
  const { request } = validJsonRequest(label, 3);
  const started = performance.now();
  const answer = await client.export(toProtobuf(request), bearer(TOKEN));
  return { answer, ms: performance.now() - started };
};

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

describe('the gRPC receiver under a flood of compressed messages', () => {
  it('answers unauthenticated messages without inflating them: memory stays flat', async () => {
    const compressing = precompressedGrpcTraceClient(grpcPort);
    const valid = rawGrpcTraceClient(grpcPort);
    try {
      const before = residentMemory(pid);
      const answers = await Promise.all(
        Array.from({ length: FLOOD_REQUESTS }, () => compressing.export(BOMB, 'Bearer not-the-token')),
      );
      const after = residentMemory(pid);
      expect(new Set(answers.map((answer) => answer.code))).toEqual(new Set([grpc.status.UNAUTHENTICATED]));
      // Nothing was inflated: the peak moved by less than one message would have cost.
      expect(
        after.peak - before.peak,
        `peak RSS grew by ${Math.round((after.peak - before.peak) / 2 ** 20)} MiB`,
      ).toBeLessThan(INFLATED_BYTES);
      const { answer } = await timedValidExport(valid, 'after-unauthenticated-flood');
      expect(answer.code, answer.details).toBe(grpc.status.OK);
    } finally {
      compressing.close();
      valid.close();
    }
  }, 120_000);

  it('bounds authenticated work in progress by inflated bytes, refuses the rest retryably, and keeps valid exports moving', async () => {
    const compressing = precompressedGrpcTraceClient(grpcPort);
    const valid = rawGrpcTraceClient(grpcPort);
    try {
      const baseline: number[] = [];
      for (let index = 0; index < 5; index++) {
        const { answer, ms } = await timedValidExport(valid, `baseline-${index}`);
        expect(answer.code, answer.details).toBe(grpc.status.OK);
        baseline.push(ms);
      }

      const flood: Promise<GrpcAnswer>[] = [];
      const during: number[] = [];
      for (let index = 0; index < FLOOD_REQUESTS; index++) {
        flood.push(compressing.export(BOMB, `Bearer ${TOKEN}`));
      }
      // Valid exports while the flood is under way; an exporter retries UNAVAILABLE, so this one does too.
      for (let index = 0; index < 5; index++) {
        let outcome = await timedValidExport(valid, `during-${index}`);
        let total = outcome.ms;
        while (outcome.answer.code === grpc.status.UNAVAILABLE) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          outcome = await timedValidExport(valid, `during-${index}`);
          total += outcome.ms + 100;
        }
        expect(outcome.answer.code, outcome.answer.details).toBe(grpc.status.OK);
        during.push(total);
      }
      const answers = await Promise.all(flood);
      const peak = residentMemory(pid).peak;

      const codes = new Map<grpc.status, number>();
      for (const { code } of answers) codes.set(code, (codes.get(code) ?? 0) + 1);
      // An admitted message is inflated and answered (zeros decode as an empty request, or not at all);
      // the others are told to come back later, before anything of theirs was inflated.
      const details = [...new Set(answers.map((answer) => `${answer.code} ${answer.details}`))];
      const answered = [grpc.status.OK, grpc.status.INVALID_ARGUMENT, grpc.status.UNAVAILABLE];
      expect(
        [...codes.keys()].every((code) => answered.includes(code)),
        details.join('\n'),
      ).toBe(true);
      expect(
        codes.get(grpc.status.UNAVAILABLE) ?? 0,
        'most of the flood is refused retryably',
      ).toBeGreaterThan(FLOOD_REQUESTS / 2);
      expect(peak, `peak RSS ${Math.round(peak / 2 ** 20)} MiB`).toBeLessThan(PEAK_RSS_LIMIT);
      const allowed = Math.max(median(baseline) * LATENCY_FACTOR, LATENCY_FLOOR_MS);
      expect(
        median(during),
        `valid exports took ${Math.round(median(during))} ms during the flood, ${Math.round(median(baseline))} ms before`,
      ).toBeLessThan(allowed);
    } finally {
      compressing.close();
      valid.close();
    }
  }, 180_000);
});

describe('the HTTP receiver under a flood of small gzip JSON requests', () => {
  it('refuses what does not fit the work budget with 503 and Retry-After, and stays within its memory bound', async () => {
    const httpUrl = collector.url;
    // Many spans with many attributes: under 128 KB gzip, over 4 MB of JSON once inflated.
    const { request } = validJsonRequest('flood-json', 1);
    const resourceSpans = request.resourceSpans[0]!;
    const span = resourceSpans.scopeSpans[0]!.spans[0]!;
    const attributes = Array.from({ length: 200 }, (_, index) => ({
      key: `attribute.${index}`,
      value: { stringValue: 'x'.repeat(64) },
    }));
    const spans = Array.from({ length: 300 }, (_, index) => ({
      ...span,
      spanId: (index + 1).toString(16).padStart(16, '0'),
      attributes,
    }));
    const json = JSON.stringify({
      resourceSpans: [
        { resource: resourceSpans.resource, scopeSpans: [{ scope: { name: 'flood' }, spans }] },
      ],
    });
    const body = gzipSync(json, { level: 9 });
    expect(body.byteLength).toBeLessThan(128 * 1024);
    expect(json.length).toBeGreaterThan(4 * 1024 * 1024);

    const answers = await Promise.all(
      Array.from({ length: FLOOD_REQUESTS }, () =>
        fetch(`${httpUrl}/v1/traces`, {
          method: 'POST',
          body,
          headers: {
            'content-type': 'application/json',
            'content-encoding': 'gzip',
            authorization: `Bearer ${TOKEN}`,
          },
        }).then(async (response) => ({
          status: response.status,
          retryAfter: response.headers.get('retry-after'),
          text: await response.text(),
        })),
      ),
    );
    const peak = residentMemory(pid).peak;
    const statuses = new Map<number, number>();
    for (const { status } of answers) statuses.set(status, (statuses.get(status) ?? 0) + 1);
    expect(
      [...statuses.keys()].every((status) => status === 200 || status === 503),
      JSON.stringify([...statuses]),
    ).toBe(true);
    expect(statuses.get(200) ?? 0, 'some requests were taken').toBeGreaterThan(0);
    for (const answer of answers.filter(({ status }) => status === 503)) {
      expect(Number(answer.retryAfter)).toBeGreaterThanOrEqual(1);
    }
    expect(peak, `peak RSS ${Math.round(peak / 2 ** 20)} MiB`).toBeLessThan(PEAK_RSS_LIMIT);
  }, 180_000);
});
