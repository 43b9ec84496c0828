import { request } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCollectorProcess, type CollectorProcess } from '../support/collector-process.js';
import { eventually, freePort } from '../support/processes.js';
import { validJsonRequest } from './support/otlp-bodies.js';

interface Answer {
  status: number;
  body: string;
}

/**
 * A request as a browser would send it after DNS rebinding or from another site: `fetch` cannot
 * set `Host`, so this goes through node:http to the real socket.
 */
const send = (
  port: number,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<Answer> =>
  new Promise((resolve, reject) => {
    const outgoing = request({ host: '127.0.0.1', port, method, path, headers }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });

const TASK_ID = 'browser-attack-task';

/** An OTLP/JSON request of one span in task `taskId`. */
const taskRequest = (taskId: string) => {
  const { request: otlp } = validJsonRequest(taskId, 1);
  otlp.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.attributes.push({
    key: 'mcpscope.task.id',
    value: { stringValue: taskId },
  });
  return JSON.stringify(otlp);
};

const rolledUp = (port: number, taskId: string) =>
  eventually(
    async () => {
      const task = await send(port, 'GET', `/api/tasks/${taskId}`, { host: `localhost:${port}` });
      return task.status === 200 ? task : undefined;
    },
    { what: `task ${taskId} to be rolled up` },
  );
let directory: string;
let collector: CollectorProcess;
let port: number;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'mcpscope-browser-'));
  port = await freePort();
  // The default set-up the attacks aim at: loopback, no authentication.
  collector = await startCollectorProcess({
    httpPort: port,
    grpcPort: await freePort(),
    dbPath: join(directory, 'browser.duckdb'),
    extraArgs: ['--allowed-hosts', 'collector.internal'],
  });
  const stored = await send(
    port,
    'POST',
    '/v1/traces',
    { 'content-type': 'application/json', host: `127.0.0.1:${port}` },
    taskRequest(TASK_ID),
  );
  expect(stored.status).toBe(200);
  await rolledUp(port, TASK_ID);
}, 60_000);

afterAll(async () => {
  await collector?.process.stop();
  if (directory) await rm(directory, { recursive: true, force: true });
});

/** The verdict the task list shows for the task, or null. */
const feedbackOf = async (): Promise<unknown> => {
  const list = await send(port, 'GET', '/api/tasks?limit=100', { host: `127.0.0.1:${port}` });
  const tasks = (JSON.parse(list.body) as { tasks: { taskId: string; feedback: unknown }[] }).tasks;
  return tasks.find((task) => task.taskId === TASK_ID)?.feedback ?? null;
};

describe('DNS rebinding', () => {
  it('refuses a host name the collector was not given, on the API, ingest and metrics', async () => {
    const rebound = { host: `attacker.example:${port}` };
    const api = await send(port, 'GET', '/api/tasks', rebound);
    expect(api.status).toBe(403);
    expect(api.body).not.toContain(TASK_ID);
    expect(JSON.parse(api.body)).toMatchObject({ code: 'host_not_allowed' });
    expect((await send(port, 'GET', '/metrics', rebound)).status).toBe(403);
    // The web view's pages and their scripts too: a rebound page gets nothing to run.
    for (const path of ['/', `/tasks/${TASK_ID}`, '/tools', '/auth']) {
      const page = await send(port, 'GET', path, rebound);
      expect(page.status, path).toBe(403);
      expect(page.body, path).not.toContain('<script');
    }

    const posted = await send(
      port,
      'POST',
      '/v1/traces',
      { ...rebound, 'content-type': 'application/json' },
      taskRequest('rebound-task'),
    );
    expect(posted.status).toBe(403);
    // A task sent after it is rolled up: the rebound one would have been by then.
    const later = { 'content-type': 'application/json', host: `127.0.0.1:${port}` };
    expect((await send(port, 'POST', '/v1/traces', later, taskRequest('after-rebound'))).status).toBe(200);
    await rolledUp(port, 'after-rebound');
    const rebound404 = await send(port, 'GET', '/api/tasks/rebound-task', { host: `127.0.0.1:${port}` });
    expect(rebound404.status, 'nothing of the rebound request was stored').toBe(404);
  });

  it('answers IP addresses, localhost names and the configured names', async () => {
    for (const host of [
      `127.0.0.1:${port}`,
      `localhost:${port}`,
      `[::1]:${port}`,
      'LOCALHOST',
      'collector.internal:4318',
    ]) {
      expect((await send(port, 'GET', '/api/tasks', { host })).status, host).toBe(200);
    }
  });
});

describe('cross-site requests', () => {
  const local = () => ({ host: `127.0.0.1:${port}` });
  const verdict = JSON.stringify({ verdict: 'incorrect', note: 'sent from another site' });

  it('refuses feedback sent as text/plain or as a form, as a page on another site would send it', async () => {
    for (const contentType of [
      'text/plain',
      'text/plain;charset=UTF-8',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
    ]) {
      const answer = await send(
        port,
        'POST',
        `/api/tasks/${TASK_ID}/feedback`,
        { ...local(), 'content-type': contentType, origin: 'https://attacker.example' },
        verdict,
      );
      expect(answer.status, contentType).toBe(415);
    }
    const withoutType = await send(port, 'POST', `/api/tasks/${TASK_ID}/feedback`, local(), verdict);
    expect(withoutType.status).toBe(415);
    expect(await feedbackOf(), 'no verdict was recorded').toBeNull();
  });

  it('refuses JSON from a foreign origin, and takes it from the collector itself', async () => {
    const foreign = await send(
      port,
      'POST',
      `/api/tasks/${TASK_ID}/feedback`,
      { ...local(), 'content-type': 'application/json', origin: 'https://attacker.example' },
      verdict,
    );
    expect(foreign.status).toBe(403);
    expect(await feedbackOf()).toBeNull();

    const own = await send(
      port,
      'POST',
      `/api/tasks/${TASK_ID}/feedback`,
      { ...local(), 'content-type': 'application/json', origin: `http://127.0.0.1:${port}` },
      JSON.stringify({ verdict: 'correct' }),
    );
    expect(own.status).toBe(201);
    expect(await feedbackOf()).toMatchObject({ verdict: 'correct' });
  });
});
