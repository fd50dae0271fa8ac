/**
 * The built-in web view (docs/web.md): `/` (overview) and `/sessions/:id` (a session and its traces),
 * served by the bridge's one HTTP server. Two HTML shells and their static assets: plain ES modules in
 * ./assets and uPlot from node_modules, nothing from another origin (the Content-Security-Policy
 * says so to the browser too). The pages read only the documented /api routes, so the token, the
 * response cache and the API's tests cover them; auth is the server's (src/api/auth.ts).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';

export interface WebOptions {
  /**
   * Where a trace opens outside the bridge: URL templates with `{trace_id}` (e.g. Jaeger's
   * `http://localhost:16686/trace/{trace_id}`); a link per template on the session page.
   */
  traceLinks?: readonly string[];
}

const HERE = dirname(fileURLToPath(import.meta.url));
const UPLOT = dirname(createRequire(import.meta.url).resolve('uplot/package.json'));

/** Name → file and content type; read once, on first request. */
const FILES: Record<string, [string, string]> = {
  'app.css': [join(HERE, 'assets', 'app.css'), 'text/css; charset=utf-8'],
  'common.js': [join(HERE, 'assets', 'common.js'), 'text/javascript; charset=utf-8'],
  'charts.js': [join(HERE, 'assets', 'charts.js'), 'text/javascript; charset=utf-8'],
  'overview.js': [join(HERE, 'assets', 'overview.js'), 'text/javascript; charset=utf-8'],
  'session.js': [join(HERE, 'assets', 'session.js'), 'text/javascript; charset=utf-8'],
  'uPlot.min.css': [join(UPLOT, 'dist', 'uPlot.min.css'), 'text/css; charset=utf-8'],
  'uPlot.iife.min.js': [join(UPLOT, 'dist', 'uPlot.iife.min.js'), 'text/javascript; charset=utf-8'],
};

const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

const esc = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

function shell(page: 'overview' | 'session', title: string, o: WebOptions): string {
  const links = esc(JSON.stringify(o.traceLinks ?? []));
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title)}</title><meta name="ocbridge-trace-links" content="${links}">
<link rel="icon" href="data:,"><link rel="stylesheet" href="/ui/uPlot.min.css"><link rel="stylesheet" href="/ui/app.css">
<link rel="modulepreload" href="/ui/common.js">${page === 'overview' ? '<link rel="modulepreload" href="/ui/charts.js">' : ''}
</head><body data-page="${page}">
<header class="top"><a class="brand" href="/">OpenCode · bridge</a><nav><a href="/">Overview</a><a href="/api/docs">API</a></nav></header>
<main id="main" aria-live="polite"><p class="muted" id="loading">Loading…</p></main>
<script src="/ui/uPlot.iife.min.js"></script><script type="module" src="/ui/${page}.js"></script>
</body></html>`;
}

export function registerWeb(app: OpenAPIHono, o: WebOptions = {}): void {
  const cache = new Map<string, { body: Buffer; etag: string; type: string }>();
  const asset = (name: string) => {
    let a = cache.get(name);
    const f = FILES[name];
    if (!a && f) {
      const body = readFileSync(f[0]);
      a = { body, etag: `"${createHash('sha1').update(body).digest('base64url')}"`, type: f[1] };
      cache.set(name, a);
    }
    return a;
  };
  const html = (c: Context, body: string) =>
    c.html(body, 200, {
      'content-security-policy': CSP,
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
    });
  const overview = shell('overview', 'OpenCode · overview', o);
  const session = shell('session', 'OpenCode · session', o);
  app.get('/', (c) => html(c, overview));
  app.get('/sessions/:id', (c) => html(c, session));
  app.get('/ui/:name', (c) => {
    const a = asset(c.req.param('name'));
    if (!a) return c.json({ error: 'not found', detail: `no asset ${c.req.param('name')}` }, 404);
    const headers = { etag: a.etag, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' };
    if (c.req.header('if-none-match') === a.etag) return c.body(null, 304, headers);
    return c.body(new Uint8Array(a.body), 200, { ...headers, 'content-type': a.type });
  });
}
