import { mkdtemp, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startProcess, type RunningProcess } from '../support/processes.js';
import { validJsonRequest } from './support/otlp-bodies.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const cliEntry = fileURLToPath(new URL('../../../collector/dist/cli.js', import.meta.url));

/** The descriptor limit of many a default install; the attack opens more connections than that. */
const DESCRIPTOR_LIMIT = 1024;
const SLOW_CONNECTIONS = 1_100;

let directory: string;
let collector: RunningProcess;
let port: number;
const slow: Socket[] = [];

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'mcpscope-slow-'));
  port = await freePort();
  collector = startProcess(
    'prlimit',
    [
      `--nofile=${DESCRIPTOR_LIMIT}:${DESCRIPTOR_LIMIT}`,
      process.execPath,
      cliEntry,
      'collector',
      '--http-port',
      String(port),
      '--grpc-port',
      String(await freePort()),
      '--db-path',
      join(directory, 'slow.duckdb'),
    ],
    { cwd: repoRoot },
  );
  await collector.waitFor(/OTEL_EXPORTER_OTLP_ENDPOINT=/, 30_000);
}, 60_000);

afterAll(async () => {
  for (const socket of slow) socket.destroy();
  await collector?.stop();
  await rm(directory, { recursive: true, force: true });
});

/** A client that sends the start of a request and then one header line every second, never finishing. */
const openSlowConnection = (): Promise<void> =>
  new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    slow.push(socket);
    socket.on('error', () => {});
    socket.once('connect', () => {
      socket.write(
        `POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\n`,
      );
      const trickle = setInterval(() => {
        if (socket.destroyed) clearInterval(trickle);
        else socket.write('X-Slow: 1\r\n');
      }, 1_000);
      trickle.unref();
      resolve();
    });
    socket.once('close', () => resolve());
    setTimeout(resolve, 2_000).unref();
  });

const validExport = async (): Promise<{ status: number; ms: number }> => {
  const started = performance.now();
  try {
    const response = await fetch(`http://127.0.0.1:${port}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(validJsonRequest('slow-connections', 1).request),
      signal: AbortSignal.timeout(15_000),
    });
    await response.arrayBuffer();
    return { status: response.status, ms: performance.now() - started };
  } catch {
    return { status: 0, ms: performance.now() - started };
  }
};

describe('many slow connections', () => {
  it('neither exhaust the descriptors nor keep valid requests out', async () => {
    const before = await validExport();
    expect(before.status).toBe(200);

    for (let opened = 0; opened < SLOW_CONNECTIONS; opened += 100) {
      await Promise.all(Array.from({ length: 100 }, openSlowConnection));
    }
    const during: { status: number; ms: number }[] = [];
    for (let attempt = 0; attempt < 10; attempt++) during.push(await validExport());

    expect(during.map((answer) => answer.status)).toEqual(Array.from({ length: 10 }, () => 200));
    // Each valid request is answered in seconds at worst, not held until a timeout.
    expect(Math.max(...during.map((answer) => answer.ms))).toBeLessThan(5_000);
    expect(collector.stderr()).not.toMatch(/EMFILE/);
  }, 90_000);
});
