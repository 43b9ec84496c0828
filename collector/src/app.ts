import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { ApiError, apiRoutes, checkpointRoutes, renderError } from './api/index.js';
import { createAuthenticator, createAuthGate, FailureLimiter, requireAuth } from './auth/index.js';
import type { CollectorConfig } from './config/index.js';
import { errorKind, silentLogger, type Logger } from './config/index.js';
import { createForwarder, type Forwarder } from './forward/index.js';
import { guardConnections, hostAllowList, jsonOnly, type ConnectionGuardOptions } from './guards/index.js';
import { CheckpointMetrics, CollectorMetrics } from './metrics/index.js';
import type { IngestObserver } from './model/ingest-events.js';
import { IngestQueue, WorkBudget } from './pipeline/index.js';
import { PreparePool } from './prepare/index.js';
import { otlpHttpRoutes, startOtlpGrpcReceiver } from './receivers/index.js';
import { collectorRedactor } from './redact/collector-redactor.js';
import { DuckDbStore, startStoreMaintenance } from './store/index.js';
import { webRoutes } from './web/index.js';

export interface RunningCollector {
  httpPort: number;
  grpcPort: number;
  /** Base URL of the HTTP side (OTLP/HTTP, /api, /metrics). */
  url: string;
  /** Stops listening, commits everything accepted, closes the database. */
  close(): Promise<void>;
}

export interface StartCollectorOptions {
  logger?: Logger;
}

const urlHost = (host: string) => (host.includes(':') ? `[${host}]` : host);

const listen = (
  app: Hono,
  hostname: string,
  port: number,
  connections: ConnectionGuardOptions,
): Promise<Server> =>
  new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname, port }) as Server;
    guardConnections(server, connections);
    server.once('error', reject);
    server.once('listening', () => {
      server.off('error', reject);
      resolve(server);
    });
  });

/** Stops accepting, lets in-flight requests finish, and drops keep-alive connections as they go idle. */
const closeServer = (server: Server): Promise<void> =>
  new Promise((resolve) => {
    const sweep = setInterval(() => server.closeIdleConnections(), 25);
    server.close(() => {
      clearInterval(sweep);
      resolve();
    });
    server.closeIdleConnections();
  });

/**
 * Composes the collector: DuckDB store, ingest queue, metrics, OTLP receivers (gRPC on its own port,
 * HTTP on the same Hono app and port as /api, /metrics, /healthz and /readyz), auth, forwarding.
 */
export const startCollector = async (
  config: CollectorConfig,
  { logger = silentLogger }: StartCollectorOptions = {},
): Promise<RunningCollector> => {
  const metrics = new CollectorMetrics({
    maxToolsPerService: config.maxToolsPerService,
    maxServices: config.maxServices,
    maxLabelValues: config.maxLabelValues,
    taskSettleSeconds: config.taskSettleSeconds,
  });
  const store = await DuckDbStore.open({
    path: config.dbPath,
    threads: config.duckdbThreads,
    memoryLimit: config.duckdbMemoryLimit,
    maxTaskSpans: config.maxTaskSpans,
    onTaskTooLarge: (taskId, spans) =>
      logger.warn('a task is past --max-task-spans: it keeps the rollup it had; its new spans are stored', {
        taskId,
        spans,
        maxTaskSpans: config.maxTaskSpans,
      }),
    onRolledUp: (result, seconds) => metrics.rolledUp(result, seconds),
    onRollupFailed: (error) =>
      logger.error('rollup failed; its spans are stored and the rollup is retried', {
        error: errorKind(error),
      }),
    onTraceSetAside: (traceId, error) => {
      logger.error(
        'a trace whose rollup keeps failing alone is set aside until the next start; its spans are stored',
        {
          traceId,
          error: errorKind(error),
        },
      );
      metrics.traceSetAside();
    },
  });
  const checkpointMetrics = new CheckpointMetrics({
    registry: metrics.registry,
    store,
    labels: metrics.labels,
    settleSeconds: config.taskSettleSeconds,
  });
  const forwarder: Forwarder | undefined =
    config.forwardEndpoint === undefined
      ? undefined
      : createForwarder({
          endpoint: config.forwardEndpoint,
          onDrop: (spanCount, reason) => {
            metrics.forwarded('failure', spanCount);
            logger.warn('forwarding dropped spans', { spanCount, reason });
          },
        });
  let forwardedSoFar = 0;
  const countForwarded = () => {
    const forwarded = forwarder?.stats().forwardedSpans ?? 0;
    if (forwarded > forwardedSoFar) metrics.forwarded('success', forwarded - forwardedSoFar);
    forwardedSoFar = forwarded;
  };

  const queue = new IngestQueue({
    store,
    capacity: config.queueCapacity,
    capacityBytes: config.queueCapacityBytes,
    batchSize: config.batchSize,
    batchIntervalMs: config.batchIntervalMs,
    onCommitted: (result, seconds) => {
      metrics.committed(result, seconds);
      checkpointMetrics.committed(result);
      // Duplicates were forwarded when first stored; send only what this commit added.
      if (result.stored.length > 0) forwarder?.forward(result.stored);
    },
    onCommitFailed: (error, spanCount) => {
      metrics.commitFailed(spanCount);
      logger.error('commit failed; the requests were refused and exporters will retry', {
        spanCount,
        error: errorKind(error),
      });
    },
    onDepthChanged: (depth) => metrics.queueDepth(depth),
  });
  metrics.queueCapacity(queue.capacity);

  // Redaction sees values whole (a request bounds them); ingest cuts them to the configured length after.
  const redaction = { rules: config.redactionRules, maxStringLength: config.maxDecompressedBytes };
  const redactor = collectorRedactor(redaction);
  // Decoding and redaction in worker threads keep the main thread free for commits and the API.
  const preparePool =
    config.decodeWorkers > 0 ? new PreparePool({ redaction, size: config.decodeWorkers }) : undefined;
  const prepare = preparePool?.prepare;
  const authenticator = createAuthenticator({
    tokens: config.authTokens,
    ...(config.oidc === undefined
      ? {}
      : {
          oidc: {
            ...config.oidc,
            requireExp: config.oidcRequireExp,
            jwksGraceSeconds: config.oidcJwksGraceSeconds,
          },
        }),
    jwksEvents: {
      onFetchFailed: ({ servingStaleKeys, keysAgeSeconds }) => {
        metrics.jwksFetchFailed(servingStaleKeys);
        logger.warn(
          servingStaleKeys
            ? 'the JWKS URL cannot be fetched; JWTs are verified with the last good keys until their grace time ends'
            : 'the JWKS URL cannot be fetched and no usable keys are held; JWT callers are told to retry (503)',
          { keysAgeSeconds: keysAgeSeconds ?? null, graceSeconds: config.oidcJwksGraceSeconds },
        );
      },
      onStaleKeysUsed: () => metrics.jwksStaleKeysUsed(),
    },
  });
  // One gate for ingest and the API: failures on every surface count towards one limit per address.
  const authGate = createAuthGate(
    authenticator,
    new FailureLimiter({ maxFailures: config.authFailureLimit }),
  );
  const maxFutureSkewMs = config.maxClockSkewSeconds * 1000;
  // One bound on requests being read, inflated, decoded and redacted, whichever receiver took them.
  const workBudget = new WorkBudget();
  const limits = {
    maxBodyBytes: config.maxBodyBytes,
    maxDecompressedBytes: config.maxDecompressedBytes,
    maxSpansPerRequest: config.maxSpansPerRequest,
    maxAttributeValueLength: config.maxAttributeValueLength,
  };

  // Both receivers feed the same queue through the same budget, redaction and workers.
  const receiverOptions = {
    sink: queue,
    redactor,
    authGate,
    observer: metrics,
    limits,
    workBudget,
    maxFutureSkewMs,
    ...(prepare && { prepare }),
  };

  const app = new Hono();
  app.onError(renderError);
  app.notFound(() => {
    throw new ApiError(404, 'not_found', 'no such route');
  });
  // Before any route: a page rebinding its own name to this address gets nothing.
  app.use('*', hostAllowList({ allowedHosts: config.allowedHosts }));
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', (c) => {
    const ready = store.isOpen && !queue.isFull;
    return c.json(
      { status: ready ? 'ready' : 'not_ready', storeOpen: store.isOpen, queueFull: queue.isFull },
      ready ? 200 : 503,
    );
  });
  app.get('/metrics', async (c) => {
    countForwarded();
    metrics.rollupPending(store.pendingRollupSpans);
    metrics.queueDepth(queue.depth);
    // A scrape still answers when the store cannot: the pending gauges keep their last values.
    await checkpointMetrics.refreshPending().catch(() => undefined);
    return c.body(await metrics.exposition(), 200, { 'content-type': metrics.contentType });
  });
  // The OTLP receivers count their own refusals; an API refusal is counted here, with its reason.
  const apiAuthObserver: IngestObserver = {
    received: (protocol, spanCount) => metrics.received(protocol, spanCount),
    rejected: (protocol, reason) => metrics.rejected(protocol, reason),
    authFailed: (protocol, reason) => {
      metrics.authFailed(protocol, reason);
      metrics.rejected(protocol, 'unauthenticated');
    },
    redacted: (byRule) => metrics.redacted(byRule),
  };
  app.use('/api/*', jsonOnly({ allowedHosts: config.allowedHosts }));
  app.use(
    '/api/*',
    requireAuth({ authenticator, gate: authGate, protocol: 'api', observer: apiAuthObserver }),
  );
  app.route('/', apiRoutes({ store, redactor, onFeedback: (verdict) => metrics.feedbackRecorded(verdict) }));
  app.route('/', checkpointRoutes({ store }));
  app.route(
    '/',
    webRoutes({
      grafanaUrl: config.grafanaUrl,
      traceUrl: config.traceUrl,
      metricsRegistry: metrics.registry,
    }),
  );
  app.route('/', otlpHttpRoutes(receiverOptions));

  const stopMaintenance = startStoreMaintenance({
    store,
    retentionDays: config.retentionDays,
    onError: (operation, error) => logger.error(`store ${operation} failed`, { error: errorKind(error) }),
  });
  const stopSettling = metrics.startTaskSettling();
  const stopCheckpointSettling = checkpointMetrics.startSettling(1000, (error) =>
    logger.error('checkpoint metrics failed to settle; retried', { error: errorKind(error) }),
  );

  let server: Server | undefined;
  let grpc: Awaited<ReturnType<typeof startOtlpGrpcReceiver>> | undefined;
  try {
    server = await listen(app, config.host, config.httpPort, {
      maxConnections: config.maxConnections,
      headersTimeoutMs: config.headersTimeoutSeconds * 1000,
      requestTimeoutMs: config.requestTimeoutSeconds * 1000,
    });
    grpc = await startOtlpGrpcReceiver({
      host: config.host,
      port: config.grpcPort,
      ...receiverOptions,
    });
  } catch (error) {
    await preparePool?.close();
    stopMaintenance();
    stopSettling();
    stopCheckpointSettling();
    if (server !== undefined) await closeServer(server);
    await queue.close();
    await store.close();
    throw error;
  }
  const httpPort = (server.address() as AddressInfo).port;
  const grpcPort = grpc.port;
  const url = `http://${urlHost(config.host)}:${httpPort}`;
  logger.info('collector listening', { host: config.host, httpPort, grpcPort, dbPath: config.dbPath });

  let closing: Promise<void> | undefined;
  const runningServer = server;
  const runningGrpc = grpc;
  return {
    httpPort,
    grpcPort,
    url,
    close() {
      closing ??= (async function closeCollector() {
        logger.info('collector shutting down', { queuedSpans: queue.depth });
        stopMaintenance();
        stopSettling();
        stopCheckpointSettling();
        // Stop taking connections, then commit what was accepted: in-flight requests get their answer.
        const receiversClosed = Promise.all([runningGrpc.close(), closeServer(runningServer)]);
        // Requests being decoded were accepted too: they reach the queue before it closes.
        await preparePool?.settled();
        await queue.close();
        await receiversClosed;
        await preparePool?.close();
        metrics.settleIdleTasks();
        await forwarder?.close();
        await store.close();
        logger.info('collector stopped');
      })();
      return closing;
    },
  };
};
