/**
 * The bridge's one HTTP server: `/api/*`, `/metrics`, `/openapi.json` on one host and port.
 * `createApp` builds the Hono app (testable with `app.request()`); `startServer` listens.
 * `/metrics` is injected by the CLI (src/otel sits beside src/api, not before it), and so is the
 * readiness of the live bridge (`readiness`). Routes read DuckDB through their own pooled
 * connections on `store.instance`, never the writer's `store.conn`.
 */
import { serve } from '@hono/node-server';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { cors } from 'hono/cors';
import { HTTPException } from 'hono/http-exception';
import { type Logger, pino } from 'pino';
import type { RequestObservation } from '../domain/request-observation.ts';
import type { Store } from '../store/db.ts';
import { authMiddleware, registerLogin } from './auth.ts';
import { type CacheOptions, ResponseCache } from './cache.ts';
import { renderDocsPage } from './docs-page.ts';
import { invalid, registerInternal, type SqlRunner } from './internal.ts';
import { registerOverviewRoutes } from './overview-routes.ts';
import { ConnectionPool, QueryTimeoutError } from './pool.ts';
import { responder } from './respond.ts';
import { NotFound, registerRoutes } from './routes.ts';
import { ErrorSchema, HealthSchema, QueryRequest, QueryResponse } from './schemas.ts';
import { lockDownInstance, runReadOnlySql, SqlRefusedError } from './sql-guard.ts';

/** What the live bridge says about itself (filled by the CLI); `ready: false` → 503 on `?probe=ready`. */
export interface Readiness {
  ready: boolean;
  /** ready, but changes wait or fail (pending changes, failing applies): `degraded`, still 200 */
  degraded?: boolean;
  /** ingest status, passed through as JSON (e.g. phase, last commit time, lag, errors) */
  ingest?: Record<string, unknown>;
  detail?: string;
}

export interface ApiDeps {
  store: Store;
  /** where failed requests are logged (default: errors as JSON on stderr) */
  logger?: Pick<Logger, 'error'>;
  /** answers GET /metrics (Prometheus text, OpenMetrics when asked) */
  metrics?: { handle(req: Request): Promise<Response> | Response };
  /** called once per answered request (request-duration metric) */
  onRequest?: (r: RequestObservation) => void;
  /** when set, every route but /api/health needs `Authorization: Bearer <token>` */
  apiToken?: string;
  /** without a token: `Host` names accepted besides loopback ones and IP addresses (host-check.ts) */
  allowedHosts?: string[];
  /** readiness of the live bridge (`ocbridge run`); without it, ready = the store answers */
  readiness?: () => Readiness | Promise<Readiness>;
  /** `run` (live bridge) or `serve` (a database alone); shown by /api/health */
  mode?: string;
  /** POST /api/query (read-only SQL) is refused with 403 unless this is true (`--enable-sql`) */
  enableSql?: boolean;
  /**
   * The running bridge's local credential (`<db>.bridge.json`): enables /internal/query and
   * /internal/report for `ocbridge query`/`report` while this process holds the store, and is
   * accepted instead of the API token (header `x-ocbridge-credential`).
   */
  localCredential?: string;
  /** runs the bridge's health checks now (POST /internal/health, for `ocbridge health` while running) */
  internalHealth?: () => Promise<unknown>;
  /** writes a consistent backup to this absolute path (POST /internal/backup, `ocbridge backup` while running) */
  internalBackup?: (out: string) => Promise<unknown>;
  /** allow this browser origin (CORS); off when unset */
  corsOrigin?: string;
  /** deadline of every route's queries (default 10 s) */
  queryTimeoutMs?: number;
  /** deadline of user SQL (default 5 s) */
  sqlTimeoutMs?: number;
  /** at most this many rows from user SQL (default 10 000) */
  sqlRowLimit?: number;
  /** API connections on `store.instance` (default 4) */
  poolSize?: number;
  /**
   * The version of the data: answers of the read routes are cached per URL while it stays the same
   * (`serve`: a constant; `run`: bumped by the bridge after each commit/derivation). No caching without it.
   */
  dataVersion?: () => string | number | Promise<string | number>;
  /** bounds of the response cache (default 500 entries, 32 MB) */
  cache?: CacheOptions;
  /**
   * Also `SET lock_configuration = true` before the first user SQL (only for an instance nobody
   * else configures, i.e. `ocbridge serve`; the live bridge changes memory_limit at run time).
   */
  lockConfiguration?: boolean;
}

const pools = new WeakMap<OpenAPIHono, ConnectionPool>();

/** Closes the app's DuckDB connections (call before closing the store). */
export function disposeApp(app: OpenAPIHono): void {
  pools.get(app)?.close();
}

export function createApp(deps: ApiDeps): OpenAPIHono {
  const logger = deps.logger ?? pino({ level: 'error' }, pino.destination(2));
  const app = new OpenAPIHono({
    defaultHook: (result, c) => {
      if (!result.success) return invalid(c, result.error.issues, result.target);
    },
  });
  const pool = new ConnectionPool(deps.store.instance, {
    size: deps.poolSize,
    timeoutMs: deps.queryTimeoutMs,
  });
  pools.set(app, pool);

  app.use('*', async (c, next) => {
    const t0 = performance.now();
    await next();
    deps.onRequest?.({
      method: c.req.method,
      route: c.req.routePath,
      status: c.res.status,
      seconds: (performance.now() - t0) / 1000,
    });
  });
  if (deps.corsOrigin)
    app.use('*', cors({ origin: deps.corsOrigin, allowHeaders: ['Authorization', 'Content-Type'] }));

  // Authentication (./auth.ts): local credential, API token (bearer header or the web view's cookie)
  app.use('*', authMiddleware(deps.apiToken, deps.localCredential, deps.allowedHosts));
  registerLogin(app, deps.apiToken);

  app.onError((err, c) => {
    if (err instanceof QueryTimeoutError)
      return c.json({ error: 'query timeout', detail: err.message }, 503, { 'Retry-After': '5' });
    if (err instanceof SqlRefusedError) return c.json({ error: 'sql refused', detail: err.message }, 400);
    if (err instanceof NotFound) return c.json({ error: 'not found', detail: err.message }, 404);
    if (err instanceof HTTPException)
      return err.res ? err.getResponse() : c.json({ error: err.message || 'bad request' }, err.status);
    logger.error({ err, method: c.req.method, path: c.req.path }, 'api request failed');
    return c.json({ error: 'internal error' }, 500);
  });
  app.notFound((c) => c.json({ error: 'not found', detail: `no route ${c.req.method} ${c.req.path}` }, 404));

  registerHealth(app, deps, pool);
  const respond = responder({
    cache: deps.dataVersion ? new ResponseCache(deps.cache) : undefined,
    dataVersion: deps.dataVersion,
  });
  registerRoutes(app, pool, respond);
  registerOverviewRoutes(app, pool, respond);
  const runSql = registerSql(app, deps, pool);
  if (deps.localCredential !== undefined) registerInternal(app, deps, pool, runSql);

  if (deps.metrics) {
    const metrics = deps.metrics;
    app.get('/metrics', (c) => metrics.handle(c.req.raw));
  }
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });
  const docConfig = {
    openapi: '3.0.3',
    info: {
      title: 'opencode-otel-bridge API',
      version: '1',
      description:
        'Read-only analytics over the OpenCode history in DuckDB. List routes answer `{ data: [flat rows], next_cursor }`; times are ISO-8601 (UTC); `from`/`to` take ISO-8601 or epoch milliseconds.',
    },
    security: deps.apiToken ? [{ bearer: [] }] : [],
  };
  app.doc('/openapi.json', docConfig);
  app.get('/api/docs', (c) =>
    c.html(renderDocsPage(app.getOpenAPIDocument(docConfig) as unknown as Record<string, unknown>)),
  );
  return app;
}

function registerHealth(app: OpenAPIHono, deps: ApiDeps, pool: ConnectionPool): void {
  const route = createRoute({
    method: 'get',
    path: '/api/health',
    summary: 'Liveness and readiness (open without a token)',
    description:
      'Always 200 while the process answers (liveness, no database query), with `ready` and the ingest status. With `probe=ready` it also asks the store (2 s deadline) and answers 503 until the bridge is ready. `status` is `degraded` while changes wait or fail to be applied (`ingest.pending_changes`, `ingest.oldest_pending_s`, `ingest.failing_since`, `ingest.last_error`).',
    request: {
      query: z.object({
        probe: z
          .enum(['live', 'ready'])
          .default('live')
          .openapi({ param: { name: 'probe', in: 'query' } }),
      }),
    },
    responses: {
      200: { content: { 'application/json': { schema: HealthSchema } }, description: 'alive' },
      400: {
        content: { 'application/json': { schema: ErrorSchema } },
        description: 'an unknown probe (the error names it)',
      },
      503: {
        content: { 'application/json': { schema: HealthSchema } },
        description: 'not ready (probe=ready)',
      },
    },
  });
  app.openapi(route, async (c) => {
    const { probe } = c.req.valid('query');
    let ready = false;
    let ingest: Record<string, unknown> | null = null;
    let detail: string | undefined;
    let degraded = false;
    try {
      // liveness never waits for DuckDB (a busy pool must not fail it); readiness asks the store too
      if (probe === 'ready') await pool.rows('SELECT 1', [], 2000);
      if (deps.readiness) {
        const r = await deps.readiness();
        ready = r.ready;
        degraded = r.degraded === true;
        ingest = r.ingest ?? null;
        detail = r.detail;
      } else ready = true;
    } catch (e) {
      detail = `store not answering: ${(e as Error).message}`;
    }
    const body = {
      status: degraded || detail?.startsWith('store') ? 'degraded' : ready ? 'ok' : 'starting',
      live: true,
      ready,
      mode: deps.mode ?? 'serve',
      checked_at: new Date().toISOString(),
      ingest,
      ...(detail ? { detail } : {}),
    } as const;
    return c.json(body, probe === 'ready' && !ready ? 503 : 200);
  });
}

function registerSql(app: OpenAPIHono, deps: ApiDeps, pool: ConnectionPool): SqlRunner {
  let lockedDown: Promise<string> | null = null;
  /** Switches external access off (once) and returns the store's catalog name. */
  const prepare = () => {
    lockedDown ??= pool.with(async (c) => {
      await lockDownInstance(c, deps.lockConfiguration === true);
      return String((await c.runAndReadAll('SELECT current_database()')).getRows()[0]?.[0]);
    });
    return lockedDown;
  };
  const sqlTimeout = deps.sqlTimeoutMs ?? 5000;
  const rowLimit = deps.sqlRowLimit ?? 10_000;
  let catalogName: Promise<string> | null = null;
  const catalog = () => {
    catalogName ??= pool.with(async (c) =>
      String((await c.runAndReadAll('SELECT current_database()')).getRows()[0]?.[0]),
    );
    return catalogName;
  };
  // `local`: the bridge's own user through the local credential (`ocbridge query` while run holds the
  // store). The SQL guard still admits one SELECT only, but the instance keeps its file access, which
  // the bridge needs (backups); remote SQL (/api/query, --enable-sql) switches it off for good.
  const run: SqlRunner = async (sql, limit, timeoutMs, local = false) => {
    const db = local ? await catalog() : await prepare();
    const r = await pool.with((c) => runReadOnlySql(c, sql, limit, db), timeoutMs);
    return { data: r.rows, next_cursor: null, columns: r.columns, truncated: r.truncated };
  };

  const route = createRoute({
    method: 'post',
    path: '/api/query',
    summary: 'Read-only SQL (off unless the server runs with --enable-sql)',
    description:
      'One SELECT over the store, on a connection that cannot write, attach, install, read files or set options; row limit and deadline (503).',
    request: { body: { content: { 'application/json': { schema: QueryRequest } }, required: true } },
    responses: {
      200: { content: { 'application/json': { schema: QueryResponse } }, description: 'rows' },
      400: {
        content: { 'application/json': { schema: ErrorSchema } },
        description: 'refused or invalid SQL',
      },
      403: { content: { 'application/json': { schema: ErrorSchema } }, description: 'SQL is disabled' },
      503: { content: { 'application/json': { schema: ErrorSchema } }, description: 'deadline exceeded' },
    },
  });
  app.openapi(route, async (c) => {
    if (!deps.enableSql)
      return c.json({ error: 'SQL is disabled', detail: 'start the server with --enable-sql' }, 403);
    const { sql, limit } = c.req.valid('json');
    return c.json(await run(sql, Math.min(limit ?? rowLimit, rowLimit), sqlTimeout), 200);
  });

  return run;
}

export interface RunningServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export function startServer(app: OpenAPIHono, opts: { host: string; port: number }): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname: opts.host, port: opts.port }, (info) => {
      resolve({
        url: `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${info.port}`,
        port: info.port,
        close: () =>
          new Promise<void>((r) => {
            server.close(() => r());
            (server as { closeAllConnections?: () => void }).closeAllConnections?.();
          }),
      });
    });
    server.once('error', reject);
  });
}
