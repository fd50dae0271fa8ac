/** The read-only routes under /api, declared with @hono/zod-openapi (validated input, documented output). */
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { JsonRow } from '../store/query.ts';
import { cursorParam, encodeCursor, idParam, limitParam, textParam, timeParam, ts } from './params.ts';
import type { ConnectionPool } from './pool.ts';
import {
  ERRORS_SQL,
  EXCHANGE_SPANS_SQL,
  EXCHANGE_SQL,
  MODELS_SQL,
  PROJECTS_SQL,
  SESSION_EXCHANGES_SQL,
  SESSION_SORTS,
  SESSION_TRACE_SQL,
  type SessionFilter,
  type SessionSort,
  sessionsQuery,
  TOOLS_SQL,
  USAGE_GROUPS,
  type UsageGroup,
  usageQuery,
} from './queries.ts';
import { missing, ok, page, type Respond } from './respond.ts';
import {
  ErrorRow,
  ErrorSchema,
  ExchangeDetail,
  errorResponses as errors,
  json,
  list,
  ModelRow,
  ProjectRow,
  SessionDetail,
  SessionRow,
  SpanRow,
  ToolRow,
  UsageRow,
} from './schemas.ts';

const notFound = { 404: json(ErrorSchema, 'unknown ID') };

const range = { from: timeParam('from'), to: timeParam('to') };
const project = textParam('project', 'project ID, worktree path or name');

const sessionsRoute = createRoute({
  method: 'get',
  path: '/api/sessions',
  summary: 'Sessions (flat rows), filtered, sorted, cursor-paginated',
  description:
    'A session is in the range when it was active in it: it ends at or after `from` and starts before `to`.',
  request: {
    query: z.object({
      ...range,
      project,
      agent: textParam('agent', 'the session agent (e.g. build, plan)'),
      model: textParam('model', 'sessions that used this model (`model_id` or `provider_id/model_id`)'),
      min_cost: z.coerce
        .number()
        .min(0)
        .max(1e9)
        .optional()
        .openapi({
          param: { name: 'min_cost', in: 'query' },
          description: 'at least this much USD, recorded or computed (own messages)',
        }),
      sort: z
        .enum(Object.keys(SESSION_SORTS) as [SessionSort, ...SessionSort[]])
        .default('started_at')
        .openapi({ param: { name: 'sort', in: 'query' } }),
      order: z
        .enum(['asc', 'desc'])
        .default('desc')
        .openapi({ param: { name: 'order', in: 'query' } }),
      parent: textParam('parent', 'only sub-agent sessions of this session'),
      root_only: z
        .enum(['true', 'false'])
        .optional()
        .openapi({ param: { name: 'root_only', in: 'query' }, description: 'true: only top-level sessions' }),
      limit: limitParam(100, 1000),
      cursor: cursorParam,
    }),
  },
  responses: { 200: json(list(SessionRow, 'SessionList'), 'sessions'), ...errors },
});

const sessionRoute = createRoute({
  method: 'get',
  path: '/api/sessions/{id}',
  summary: 'One session with its exchanges and its sub-agent (child) sessions',
  request: { params: z.object({ id: idParam }) },
  responses: { 200: json(SessionDetail, 'the session'), ...errors, ...notFound },
});

const traceRoute = createRoute({
  method: 'get',
  path: '/api/sessions/{id}/trace',
  summary: 'The span tree of a session (flat rows linked by parent_span_id)',
  description:
    'A `session:<id>` root span, each exchange beneath it, and their LLM call, tool, retry, compaction and sub-agent spans.',
  request: {
    params: z.object({ id: idParam }),
    query: z.object({
      attributes: z
        .enum(['true', 'false'])
        .default('false')
        .openapi({
          param: { name: 'attributes', in: 'query' },
          description:
            "true: include each span's `attributes` object (tokens, costs, model, …); larger and slower",
        }),
    }),
  },
  responses: { 200: json(list(SpanRow, 'SpanList'), 'spans'), ...errors, ...notFound },
});

const exchangeRoute = createRoute({
  method: 'get',
  path: '/api/exchanges/{id}',
  summary: 'One exchange (a user message and everything answering it) with its spans',
  request: { params: z.object({ id: idParam }) },
  responses: { 200: json(ExchangeDetail, 'the exchange'), ...errors, ...notFound },
});

const modelFilters = {
  ...range,
  project,
  agent: textParam('agent', 'only this agent'),
  model: textParam('model', '`model_id` or `provider_id/model_id`'),
  provider: textParam('provider', '`provider_id`'),
};

const usageRoute = createRoute({
  method: 'get',
  path: '/api/usage',
  summary: 'Tokens and cost (recorded and computed) of LLM messages, grouped',
  request: {
    query: z.object({
      ...modelFilters,
      group_by: z
        .enum(Object.keys(USAGE_GROUPS) as [UsageGroup, ...UsageGroup[]])
        .default('day')
        .openapi({ param: { name: 'group_by', in: 'query' }, description: 'day and hour are UTC buckets' }),
    }),
  },
  responses: { 200: json(list(UsageRow, 'UsageList'), 'usage'), ...errors },
});

const toolsRoute = createRoute({
  method: 'get',
  path: '/api/tools',
  summary: 'Tool calls by tool: count, errors, error rate, latency percentiles',
  request: { query: z.object({ ...range, project }) },
  responses: { 200: json(list(ToolRow, 'ToolList'), 'tools'), ...errors },
});

const errorsRoute = createRoute({
  method: 'get',
  path: '/api/errors',
  summary: 'Errors by category, source, provider and model, with the latest example',
  request: {
    query: z.object({
      ...range,
      project,
      category: textParam('category', 'one error category (e.g. rate_limit)'),
      source: z
        .enum(['message', 'tool', 'retry'])
        .optional()
        .openapi({ param: { name: 'source', in: 'query' } }),
    }),
  },
  responses: { 200: json(list(ErrorRow, 'ErrorList'), 'error groups'), ...errors },
});

const projectsRoute = createRoute({
  method: 'get',
  path: '/api/projects',
  summary: 'Projects with their sessions, tokens and cost (sessions active in the range)',
  request: { query: z.object(range) },
  responses: { 200: json(list(ProjectRow, 'ProjectList'), 'projects'), ...errors },
});

const modelsRoute = createRoute({
  method: 'get',
  path: '/api/models',
  summary: 'Models used, with their usage and the base price that prices them',
  request: { query: z.object(modelFilters) },
  responses: { 200: json(list(ModelRow, 'ModelList'), 'models'), ...errors },
});

class NotFound extends Error {}

export { NotFound };

export function registerRoutes(app: OpenAPIHono, pool: ConnectionPool, respond: Respond): void {
  const sessions = async (f: SessionFilter) => {
    const q = sessionsQuery(f);
    return pool.rows(q.sql, q.params);
  };
  const strip = (rows: JsonRow[]) => rows.map(({ sort_key: _k, ...r }) => r);

  app.openapi(sessionsRoute, async (c) => {
    const q = c.req.valid('query');
    const sortId = `${q.sort}:${q.order}`;
    if (q.cursor && q.cursor.s !== sortId)
      return c.json(
        {
          error: 'invalid parameter',
          parameter: 'cursor',
          detail: 'the cursor belongs to another sort/order',
        },
        400,
      );
    return respond<typeof sessionsRoute>(c, async () => {
      const rows = await sessions({
        project: q.project,
        agent: q.agent,
        model: q.model,
        parent: q.parent,
        from: ts(q.from),
        to: ts(q.to),
        minCost: q.min_cost,
        sort: q.sort,
        order: q.order,
        cursor: q.cursor,
        rootOnly: q.root_only === 'true',
        limit: q.limit + 1,
      });
      let next: string | null = null;
      if (rows.length > q.limit) {
        const last = rows[q.limit - 1] as JsonRow;
        next = encodeCursor({ k: Number(last.sort_key), id: String(last.session_id), s: sortId });
      }
      return ok(page(strip(rows.slice(0, q.limit)), next));
    });
  });

  app.openapi(sessionRoute, async (c) => {
    const { id } = c.req.valid('param');
    return respond<typeof sessionRoute>(c, async () => {
      const [family, exchanges] = await Promise.all([
        sessions({ id, withChildren: true, sort: 'started_at', order: 'asc', limit: 100_000 }),
        pool.rows(SESSION_EXCHANGES_SQL, [id]),
      ]);
      const row = family.find((r) => r.session_id === id);
      if (!row) return missing('session', id);
      const children = family.filter((r) => r.session_id !== id);
      return ok({ data: { ...strip([row])[0], exchanges, children: strip(children) } });
    });
  });

  app.openapi(traceRoute, async (c) => {
    const { id } = c.req.valid('param');
    const { attributes } = c.req.valid('query');
    return respond<typeof traceRoute>(c, async () => {
      const spans = await pool.plainRows(SESSION_TRACE_SQL, [id, attributes === 'true'], 'attributes');
      if (spans.length === 0) {
        const exists = await pool.rows('SELECT 1 FROM sessions WHERE session_id = $1', [id]);
        if (exists.length === 0) return missing('session', id);
      }
      return ok(page(spans));
    });
  });

  app.openapi(exchangeRoute, async (c) => {
    const { id } = c.req.valid('param');
    return respond<typeof exchangeRoute>(c, async () => {
      const [row] = await pool.rows(EXCHANGE_SQL, [id]);
      if (!row) return missing('exchange', id);
      const spans = await pool.plainRows(EXCHANGE_SPANS_SQL, [id], 'attributes');
      return ok({ data: { ...row, spans } });
    });
  });

  const modelParams = (q: {
    from?: Date;
    to?: Date;
    project?: string;
    agent?: string;
    model?: string;
    provider?: string;
  }) => [ts(q.from), ts(q.to), q.project ?? null, q.agent ?? null, q.model ?? null, q.provider ?? null];

  app.openapi(usageRoute, async (c) => {
    const q = c.req.valid('query');
    return respond<typeof usageRoute>(c, async () =>
      ok(page(await pool.rows(usageQuery(q.group_by), modelParams(q)))),
    );
  });

  app.openapi(toolsRoute, async (c) => {
    const q = c.req.valid('query');
    return respond<typeof toolsRoute>(c, async () =>
      ok(page(await pool.rows(TOOLS_SQL, [ts(q.from), ts(q.to), q.project ?? null]))),
    );
  });

  app.openapi(errorsRoute, async (c) => {
    const q = c.req.valid('query');
    return respond<typeof errorsRoute>(c, async () =>
      ok(
        page(
          await pool.rows(ERRORS_SQL, [
            ts(q.from),
            ts(q.to),
            q.project ?? null,
            q.category ?? null,
            q.source ?? null,
          ]),
        ),
      ),
    );
  });

  app.openapi(projectsRoute, async (c) => {
    const q = c.req.valid('query');
    return respond<typeof projectsRoute>(c, async () =>
      ok(page(await pool.rows(PROJECTS_SQL, [ts(q.from), ts(q.to)]))),
    );
  });

  app.openapi(modelsRoute, async (c) => {
    const q = c.req.valid('query');
    return respond<typeof modelsRoute>(c, async () => ok(page(await pool.rows(MODELS_SQL, modelParams(q)))));
  });
}
