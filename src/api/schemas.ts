/** Response shapes (documentation in /openapi.json and docs/api.md; responses are not re-validated). */
import { z } from '@hono/zod-openapi';

const iso = () => z.string().nullable().openapi({ format: 'date-time', example: '2026-01-02T03:04:05.678Z' });
const int = () => z.number().int().nullable();
const num = () => z.number().nullable();
const str = () => z.string().nullable();

export const ErrorSchema = z
  .object({
    error: z.string().openapi({ example: 'invalid parameter' }),
    parameter: z.string().optional().openapi({ description: 'the parameter at fault', example: 'from' }),
    detail: z.string().optional(),
  })
  .openapi('Error');

/** A JSON response of an OpenAPI route. */
export const json = <T extends z.ZodTypeAny>(schema: T, description: string) => ({
  content: { 'application/json': { schema } },
  description,
});
/** The error answers every read route can give. */
export const errorResponses = {
  400: json(ErrorSchema, 'a parameter is invalid (the error names it)'),
  401: json(ErrorSchema, 'missing or wrong bearer token (when the server has one)'),
  503: json(ErrorSchema, 'the query took longer than its deadline and was interrupted'),
};

const tokenFields = {
  input_tokens: int(),
  output_tokens: int(),
  reasoning_tokens: int(),
  cache_read_tokens: int(),
  cache_write_tokens: int(),
};

export const SessionRow = z
  .object({
    session_id: z.string(),
    title: str(),
    project_id: str(),
    project: str().openapi({ description: 'project name, else its worktree path, else its ID' }),
    agent: str(),
    model_id: str().openapi({ description: 'model of the first exchange' }),
    provider_id: str(),
    started_at: iso(),
    ended_at: iso(),
    duration_ms: int(),
    exchange_count: int(),
    ...tokenFields,
    cost_usd: num().openapi({ description: 'recorded by OpenCode (own messages)' }),
    computed_cost_usd: num().openapi({
      description: 'from model_pricing (own messages); null: no known price',
    }),
    error_count: int(),
    parent_session_id: str(),
    tool_call_count: int(),
    subagent_session_count: int(),
    total_cost_usd: num().openapi({ description: 'own + all sub-agent sessions' }),
    total_computed_cost_usd: num(),
    trace_id: str().openapi({
      description: 'hex OTLP trace ID holding the first exchange (its top-level exchange for sub-agents)',
    }),
  })
  .openapi('Session');

export const ExchangeRow = z
  .object({
    exchange_id: z.string(),
    session_id: z.string(),
    project_id: str(),
    exchange_index: int(),
    kind: str(),
    status: str(),
    started_at: iso(),
    ended_at: iso(),
    duration_ms: int(),
    agent: str(),
    provider_id: str(),
    model_id: str(),
    user_message_id: str(),
    assistant_message_count: int(),
    step_count: int(),
    tool_call_count: int(),
    tool_error_count: int(),
    error_count: int(),
    error_category: str(),
    ...tokenFields,
    cost_usd: num(),
    computed_cost_usd: num(),
    reverted: z.boolean().nullable(),
    parent_exchange_id: str(),
    parent_part_id: str(),
    nesting_depth: int(),
    subagent_session_count: int(),
    subagent_exchange_count: int(),
    subagent_cost_usd: num(),
    subagent_computed_cost_usd: num(),
    trace_id: str(),
  })
  .openapi('Exchange');

export const SpanRow = z
  .object({
    span_id: z.string(),
    parent_span_id: str(),
    kind: z.string(),
    name: str(),
    started_at: iso(),
    ended_at: iso(),
    duration_ms: int(),
    depth: int(),
    exchange_id: str(),
    session_id: str(),
    message_id: str(),
    part_id: str(),
    clamped: z.boolean().nullable(),
    attributes: z.record(z.string(), z.unknown()).nullable().openapi({
      description:
        'per-kind details (tokens, costs, model, status, …); in session traces only with attributes=true',
    }),
  })
  .openapi('Span');

export const UsageRow = z
  .object({
    bucket: z.string().openapi({ description: 'ISO timestamp (day, hour) or the group value' }),
    ...tokenFields,
    cost_usd: num(),
    computed_cost_usd: num(),
    exchanges: int(),
    llm_messages: int(),
  })
  .openapi('Usage');

export const ToolRow = z
  .object({
    tool: z.string(),
    calls: z.number().int(),
    errors: z.number().int(),
    error_rate: z.number().openapi({ description: 'errors / calls (0–1)' }),
    p50_ms: num(),
    p95_ms: num(),
    p99_ms: num(),
    total_ms: int(),
  })
  .openapi('Tool');

export const SummaryRow = z
  .object({
    sessions: z.number().int().openapi({ description: 'sessions active in the range (as /api/sessions)' }),
    root_sessions: z.number().int().openapi({ description: 'of which top-level (not sub-agent)' }),
    exchanges: z
      .number()
      .int()
      .openapi({ description: 'distinct exchanges with an LLM message in the range' }),
    llm_messages: z.number().int(),
    ...tokenFields,
    tokens: z.number().int().openapi({ description: 'the five token counts summed' }),
    cache_hit_ratio: num().openapi({
      description: 'cache_read / (input + cache_read + cache_write); null without input',
    }),
    cost_usd: z.number().openapi({ description: 'recorded (as /api/usage)' }),
    computed_cost_usd: num().openapi({ description: 'from the price list; null: nothing priced' }),
    tool_calls: z.number().int(),
    tool_errors: z.number().int(),
    errors: z
      .number()
      .int()
      .openapi({ description: 'message errors, failed tools and retries (as /api/errors)' }),
  })
  .openapi('Summary');

export const HealthCheckRow = z
  .object({
    check_id: z.string(),
    status: z.enum(['pass', 'warn', 'fail']),
    value: num(),
    warn_threshold: num(),
    fail_threshold: num(),
    explanation: z.string(),
    checked_at: iso(),
    run_id: z.string(),
  })
  .openapi('HealthCheck');

export const ErrorRow = z
  .object({
    category: z.string(),
    source: z.string().openapi({ description: 'message, tool or retry' }),
    provider_id: str(),
    model_id: str(),
    count: z.number().int(),
    last_seen: iso(),
    example: str().openapi({ description: 'the most recent error message (first 500 characters)' }),
    example_session_id: str(),
  })
  .openapi('ErrorGroup');

export const ProjectRow = z
  .object({
    project_id: z.string(),
    project: str(),
    worktree: str(),
    vcs: str(),
    sessions: z.number().int(),
    first_seen: iso(),
    last_seen: iso(),
    ...tokenFields,
    cost_usd: num(),
    computed_cost_usd: num(),
  })
  .openapi('Project');

export const ModelRow = z
  .object({
    provider_id: str(),
    model_id: str(),
    llm_messages: int(),
    steps: int(),
    ...tokenFields,
    cost_usd: num(),
    computed_cost_usd: num(),
    first_seen: iso(),
    last_seen: iso(),
    price_match: str().openapi({ description: 'exact, alias, normalized, upstream, free; null: unpriced' }),
    price_provider_id: str(),
    price_model_id: str(),
    input_per_mtok: num(),
    output_per_mtok: num(),
    cache_read_per_mtok: num(),
    cache_write_per_mtok: num(),
    price_tiers: int(),
    pricing_source: str(),
    pricing_as_of: str(),
  })
  .openapi('Model');

export const list = <T extends z.ZodTypeAny>(row: T, name: string) =>
  z
    .object({
      data: z.array(row),
      next_cursor: z
        .string()
        .nullable()
        .openapi({ description: 'pass as `cursor` for the next page; null: last page' }),
    })
    .openapi(name);

export const SessionDetail = z
  .object({
    data: SessionRow.extend({ exchanges: z.array(ExchangeRow), children: z.array(SessionRow) }),
  })
  .openapi('SessionDetail');

export const ExchangeDetail = z
  .object({ data: ExchangeRow.extend({ spans: z.array(SpanRow) }) })
  .openapi('ExchangeDetail');

export const HealthSchema = z
  .object({
    status: z.enum(['ok', 'starting', 'degraded']),
    live: z.boolean(),
    ready: z.boolean(),
    mode: z.string().openapi({ description: 'run (live bridge) or serve (a database alone)' }),
    checked_at: z.string(),
    ingest: z
      .record(z.string(), z.unknown())
      .nullable()
      .openapi({ description: 'ingest status from the bridge' }),
    detail: z.string().optional(),
  })
  .openapi('Health');

export const QueryRequest = z
  .object({
    sql: z.string().min(1).max(100_000).openapi({ example: 'SELECT count(*) AS n FROM sessions' }),
    limit: z
      .number()
      .int()
      .min(1)
      .max(100_000)
      .optional()
      .openapi({ description: 'row limit (default 10000)' }),
  })
  .openapi('QueryRequest');

export const QueryResponse = z
  .object({
    data: z.array(z.record(z.string(), z.unknown())),
    next_cursor: z.null(),
    columns: z.array(z.object({ name: z.string(), type: z.string() })),
    truncated: z.boolean(),
  })
  .openapi('QueryResponse');
