/**
 * Routes for an overview screen (the built-in web view, Grafana stat panels): the totals of a range
 * in one row, and the latest run of the data health checks.
 */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { textParam, timeParam, ts } from './params.ts';
import type { ConnectionPool } from './pool.ts';
import { HEALTH_CHECKS_SQL, SUMMARY_SQL } from './queries.ts';
import { ok, page, type Respond } from './respond.ts';
import { errorResponses as errors, HealthCheckRow, json, list, SummaryRow } from './schemas.ts';

const summaryRoute = createRoute({
  method: 'get',
  path: '/api/summary',
  summary: 'Totals of a range: sessions, exchanges, tokens, cost, tool calls, errors (one row)',
  description:
    'Each total counts as the list route of its kind: LLM usage as `/api/usage` (message time), sessions active in the range as `/api/sessions`, tool calls as `/api/tools` (call start), errors as `/api/errors`.',
  request: {
    query: z.object({
      from: timeParam('from'),
      to: timeParam('to'),
      project: textParam('project', 'project ID, worktree path or name'),
    }),
  },
  responses: { 200: json(list(SummaryRow, 'SummaryList'), 'one row of totals'), ...errors },
});

const healthChecksRoute = createRoute({
  method: 'get',
  path: '/api/health/checks',
  summary: 'The latest run of the data health checks, failing checks first',
  description:
    'From `health_check_history` (written by `ocbridge run` on its schedule and by `ocbridge health`); empty when no run was stored. Not cached: a run does not change the data version.',
  responses: { 200: json(list(HealthCheckRow, 'HealthCheckList'), 'checks'), ...errors },
});

export function registerOverviewRoutes(app: OpenAPIHono, pool: ConnectionPool, respond: Respond): void {
  app.openapi(summaryRoute, async (c) => {
    const q = c.req.valid('query');
    return respond<typeof summaryRoute>(c, async () =>
      ok(page(await pool.rows(SUMMARY_SQL, [ts(q.from), ts(q.to), q.project ?? null, null, null, null]))),
    );
  });
  app.openapi(healthChecksRoute, async (c) => {
    const rows = await pool.rows(HEALTH_CHECKS_SQL);
    // rows from SQL: their shape is checked against HealthCheckRow by test/api-routes.test.ts
    return c.json(page(rows) as { data: z.infer<typeof HealthCheckRow>[]; next_cursor: string | null }, 200);
  });
}
