/** How a read route answers: JSON of a computed answer, through the per-URL response cache when there is one. */
import type { RouteConfig, RouteConfigToTypedResponse } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { JsonRow } from '../store/query.ts';
import type { ResponseCache } from './cache.ts';

export type Answer = { status: 200 | 404; data: unknown };
export const ok = (data: unknown): Answer => ({ status: 200, data });
export const missing = (what: string, id: string): Answer => ({
  status: 404,
  data: { error: 'not found', parameter: 'id', detail: `no ${what} ${id}` },
});
export const page = (data: JsonRow[], next: string | null = null) => ({ data, next_cursor: next });

export interface RouteOptions {
  /** answers kept per URL while `dataVersion()` stays the same; no caching without it */
  cache?: ResponseCache;
  dataVersion?: () => string | number | Promise<string | number>;
}

/**
 * Answers a route as its OpenAPI definition `R` types it. The rows come from SQL, so TypeScript cannot
 * know their shape: the one cast is here, and test/api-routes.test.ts checks every answer against the
 * route's response schema (test/support/openapi-check.ts).
 */
export type Respond = <R extends RouteConfig>(
  c: Context,
  compute: () => Promise<Answer>,
) => Promise<RouteConfigToTypedResponse<R>>;

/** One responder per app: the cache is cleared when the data version changes. */
export function responder(opts: RouteOptions = {}): Respond {
  let version: string | null = null;
  const answer = async (c: Context, compute: () => Promise<Answer>): Promise<Response> => {
    const { cache, dataVersion } = opts;
    if (!cache || !dataVersion) {
      const r = await compute();
      return c.json(r.data, r.status);
    }
    const v = String(await dataVersion());
    if (v !== version) {
      cache.clear();
      version = v;
    }
    const url = new URL(c.req.url);
    const r = await cache.get(`${v} ${url.pathname}${url.search}`, async () => {
      const a = await compute();
      return { status: a.status, body: JSON.stringify(a.data) };
    });
    return c.body(r.body, r.status as 200, { 'content-type': 'application/json; charset=UTF-8' });
  };
  return (<R extends RouteConfig>(c: Context, compute: () => Promise<Answer>) =>
    answer(c, compute) as Promise<unknown> as Promise<RouteConfigToTypedResponse<R>>) as Respond;
}
