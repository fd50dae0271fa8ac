/**
 * The bridge's one HTTP server: `/api/*`, `/metrics`, `/openapi.json` on one host and port.
 * `createApp` builds the Hono app (testable with `app.request()`); `startServer` listens.
 * `/metrics` is injected by the CLI (src/otel sits beside src/api, not before it).
 */
import { serve } from '@hono/node-server';
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Store } from '../store/db.ts';

export interface RequestObservation {
  method: string;
  /** the matched route pattern (e.g. `/api/sessions/:id`), never the raw path */
  route: string;
  status: number;
  seconds: number;
}

export interface ApiDeps {
  store: Store;
  /** answers GET /metrics (Prometheus text, OpenMetrics when asked) */
  metrics?: { handle(req: Request): Promise<Response> | Response };
  /** called once per answered request (request-duration metric) */
  onRequest?: (r: RequestObservation) => void;
  /** when set, every route but /api/health needs `Authorization: Bearer <token>` */
  apiToken?: string;
}

export function createApp(deps: ApiDeps): OpenAPIHono {
  const app = new OpenAPIHono();
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
  app.get('/api/health', (c) => c.json({ status: 'ok' }));
  if (deps.metrics) {
    const metrics = deps.metrics;
    app.get('/metrics', (c) => metrics.handle(c.req.raw));
  }
  return app;
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
        close: () => new Promise<void>((r) => server.close(() => r())),
      });
    });
    server.once('error', reject);
  });
}
