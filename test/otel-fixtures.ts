/**
 * Fixtures for the trace-export tests and benchmark: a store made by the real migrations, raw rows
 * written directly, and `exchanges` / `exchange_traces` rows written by hand in the issue-3 contract
 * (so each mapping rule has its own small fixture, independent of the derivation's progress).
 */

import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { classifyError } from '../src/domain/errors/taxonomy.ts';
import { openStore, type Store } from '../src/store/db.ts';
import type { Tok } from './support/analytics.ts';
import { tempDir } from './support/datadir.ts';

export const T0 = Date.UTC(2026, 0, 15, 9, 0, 0);
export const ts = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

/** The contract columns (issue 3); created only if the analytics migration has not made them. */
const CONTRACT = [
  `CREATE TABLE IF NOT EXISTS exchanges (exchange_id VARCHAR, session_id VARCHAR, status VARCHAR,
     started_at TIMESTAMP, ended_at TIMESTAMP, agent VARCHAR, provider_id VARCHAR, model_id VARCHAR,
     input_tokens BIGINT, output_tokens BIGINT, reasoning_tokens BIGINT, cache_read_tokens BIGINT,
     cache_write_tokens BIGINT, cost_usd DOUBLE, computed_cost_usd DOUBLE)`,
  `CREATE TABLE IF NOT EXISTS exchange_traces (exchange_id VARCHAR, span_id VARCHAR, parent_span_id VARCHAR,
     kind VARCHAR, name VARCHAR, started_at TIMESTAMP, ended_at TIMESTAMP, session_id VARCHAR,
     message_id VARCHAR, part_id VARCHAR, attributes JSON)`,
];

export async function openTestStore(path = join(tempDir('ocb-otel-'), 'store.duckdb')): Promise<Store> {
  const store = await openStore(path);
  for (const sql of CONTRACT) await store.conn.run(sql);
  return store;
}

type Row = Record<string, string | number | boolean | null | undefined>;

async function insert(conn: DuckDBConnection, table: string, row: Row): Promise<void> {
  const keys = Object.keys(row).filter((k) => row[k] !== undefined);
  const values = keys.map((k) => row[k] as string | number | boolean | null);
  await conn.run(
    `INSERT INTO ${table} (${keys.join(', ')}) VALUES (${keys.map((_, i) => `$${i + 1}`).join(', ')})`,
    values,
  );
}

/** Small writers for raw and contract rows; times are ms offsets from T0. */
export class Fixture {
  constructor(readonly conn: DuckDBConnection) {}

  session(id: string, o: { parent?: string; version?: string; agent?: string; project?: string } = {}) {
    return insert(this.conn, 'sessions', {
      session_id: id,
      project_id: o.project ?? 'proj1',
      parent_session_id: o.parent ?? null,
      title: `title ${id}`,
      directory: '/w/proj1',
      version: o.version ?? '1.18.33',
      agent: o.agent ?? null,
      created_at: ts(T0),
      source: 'json',
      source_path: `session/${id}.json`,
    });
  }

  user(id: string, session: string, at: number, o: { agent?: string; text?: string } = {}) {
    return insert(this.conn, 'messages', {
      message_id: id,
      session_id: session,
      role: 'user',
      agent: o.agent ?? 'build',
      provider_id: 'anthropic',
      model_id: 'claude-sonnet-4-5',
      created_at: ts(T0 + at),
      source: 'json',
      source_path: `message/${id}.json`,
    });
  }

  assistant(
    id: string,
    session: string,
    parent: string,
    at: number,
    end: number | null,
    o: {
      agent?: string;
      provider?: string;
      model?: string;
      tokens?: Tok;
      cost?: number;
      finish?: string;
      error?: { name: string; statusCode?: number; message?: string };
    } = {},
  ) {
    const t = o.tokens ?? {};
    return insert(this.conn, 'messages', {
      message_id: id,
      session_id: session,
      role: 'assistant',
      parent_message_id: parent,
      agent: o.agent ?? 'build',
      provider_id: o.provider ?? 'anthropic',
      model_id: o.model ?? 'claude-sonnet-4-5',
      created_at: ts(T0 + at),
      completed_at: end === null ? null : ts(T0 + end),
      finish: o.finish ?? null,
      cost_usd: o.cost ?? null,
      input_tokens: t.input,
      output_tokens: t.output,
      reasoning_tokens: t.reasoning,
      cache_read_tokens: t.read,
      cache_write_tokens: t.write,
      error_name: o.error?.name ?? null,
      error_data: o.error
        ? JSON.stringify({ message: o.error.message ?? '', statusCode: o.error.statusCode ?? null })
        : null,
      error_message: o.error?.message ?? null,
      root_path: '/w/proj1',
      source: 'json',
      source_path: `message/${id}.json`,
    });
  }

  async part(id: string, message: string, session: string, type: string, o: Row = {}, raw?: unknown) {
    const rest = o;
    // retries and compactions also get the focused-table row the derivation writes (the exporter reads those)
    const r = (raw ?? {}) as {
      attempt?: number;
      auto?: boolean;
      overflow?: boolean;
      error?: { name?: string; data?: { message?: string; statusCode?: number; responseBody?: string } };
    };
    if (type === 'retry')
      await insert(this.conn, 'retries', {
        part_id: id,
        session_id: session,
        message_id: message,
        attempt: r.attempt ?? null,
        error_name: r.error?.name ?? null,
        status_code: r.error?.data?.statusCode ?? null,
        error_message: r.error?.data?.message ?? null,
        error_category: classifyError({
          source: 'retry',
          name: r.error?.name,
          statusCode: r.error?.data?.statusCode,
          message: [r.error?.data?.message, r.error?.data?.responseBody].filter(Boolean).join('\n'),
        }),
      });
    if (type === 'compaction')
      await insert(this.conn, 'compactions', {
        part_id: id,
        session_id: session,
        message_id: message,
        auto: r.auto ?? null,
        overflow: r.overflow ?? null,
      });
    return insert(this.conn, 'parts', {
      part_id: id,
      message_id: message,
      session_id: session,
      part_type: type,
      source: 'json',
      source_path: `part/${id}.json`,
      raw: raw === undefined ? null : JSON.stringify(raw),
      ...rest,
    });
  }

  stepFinish(id: string, message: string, session: string, t: Tok, cost: number, reason: string) {
    return this.part(id, message, session, 'step-finish', {
      step_reason: reason,
      step_cost: cost,
      step_input_tokens: t.input ?? 0,
      step_output_tokens: t.output ?? 0,
      step_reasoning_tokens: t.reasoning ?? 0,
      step_cache_read_tokens: t.read ?? 0,
      step_cache_write_tokens: t.write ?? 0,
    });
  }

  async tool(
    id: string,
    message: string,
    session: string,
    tool: string,
    at: number,
    end: number,
    o: { status?: string; error?: string; child?: string; input?: unknown; output?: string } = {},
  ) {
    const status = o.status ?? 'completed';
    await this.part(
      id,
      message,
      session,
      'tool',
      { time_start: ts(T0 + at), time_end: ts(T0 + end) },
      { state: { status, input: o.input ?? {}, output: o.output, error: o.error } },
    );
    await insert(this.conn, 'tool_calls', {
      part_id: id,
      message_id: message,
      session_id: session,
      call_id: `call_${id}`,
      tool_name: tool,
      status,
      started_at: ts(T0 + at),
      ended_at: ts(T0 + end),
      error_message: o.error ?? null,
      child_session_id: o.child ?? null,
      input: JSON.stringify(o.input ?? {}),
    });
  }

  exchange(
    id: string,
    session: string,
    at: number,
    end: number | null,
    o: { status?: string; agent?: string } = {},
  ) {
    return insert(this.conn, 'exchanges', {
      exchange_id: id,
      session_id: session,
      status: o.status ?? 'complete',
      started_at: ts(T0 + at),
      ended_at: end === null ? null : ts(T0 + end),
      agent: o.agent ?? 'build',
      provider_id: 'anthropic',
      model_id: 'claude-sonnet-4-5',
    });
  }

  span(
    exchange: string,
    spanId: string,
    parent: string | null,
    kind: string,
    at: number,
    end: number | null,
    o: { session: string; message?: string | null; part?: string | null; name?: string },
  ) {
    return insert(this.conn, 'exchange_traces', {
      exchange_id: exchange,
      span_id: spanId,
      parent_span_id: parent,
      kind,
      name: o.name ?? kind,
      started_at: ts(T0 + at),
      ended_at: end === null ? null : ts(T0 + end),
      session_id: o.session,
      message_id: o.message ?? null,
      part_id: o.part ?? null,
      attributes: '{}',
    });
  }
}

export interface SyntheticShape {
  sessions: number;
  exchangesPerSession: number;
  stepsPerExchange: number;
  toolsPerStep: number;
}

/** 877 sessions × 24 exchanges × (1 + 2 × (1 + 4)) = 231,528 spans: the full-scale corpus's size. */
export const FULL_SCALE: SyntheticShape = {
  sessions: 877,
  exchangesPerSession: 24,
  stepsPerExchange: 2,
  toolsPerStep: 4,
};

export const spansOf = (s: SyntheticShape) =>
  s.sessions * s.exchangesPerSession * (1 + s.stepsPerExchange * (1 + s.toolsPerStep));

/**
 * Synthetic raw rows plus exchanges/exchange_traces in the contract's shape, generated inside DuckDB:
 * one assistant message per step (step-start, tools, step-finish), every ~40th tool failing.
 */
export async function writeSynthetic(conn: DuckDBConnection, s: SyntheticShape): Promise<number> {
  const { sessions: S, exchangesPerSession: X, stepsPerExchange: K, toolsPerStep: N } = s;
  const t0 = `TIMESTAMP '${ts(T0)}'`;
  const at = (ms: string) => `(${t0} + to_milliseconds(${ms}))`;
  const sql = [
    `CREATE OR REPLACE TEMP TABLE _syn_x AS
     SELECT s, x, 'ses_syn' || lpad(s::VARCHAR, 6, '0') AS ses, 'msg_u' || lpad(s::VARCHAR, 6, '0') || lpad(x::VARCHAR, 4, '0') AS ex,
            s::BIGINT * 3600000 + x::BIGINT * 60000 AS base
     FROM range(${S}) r1(s), range(${X}) r2(x)`,
    `CREATE OR REPLACE TEMP TABLE _syn_k AS
     SELECT _syn_x.*, k, 'msg_a' || substr(ex, 6) || lpad(k::VARCHAR, 2, '0') AS am, base + 500 + k * 20000 AS kb
     FROM _syn_x, range(${K}) r(k)`,
    `CREATE OR REPLACE TEMP TABLE _syn_t AS
     SELECT _syn_k.*, t, 'prt_t' || substr(am, 6) || lpad(t::VARCHAR, 2, '0') AS tp, kb + 1000 + t * 3000 AS tb,
            (hash(am, t) % 40 = 0) AS failed
     FROM _syn_k, range(${N}) r(t)`,
    `INSERT INTO sessions BY NAME SELECT DISTINCT ses AS session_id, 'proj' || (s % 23) AS project_id,
       '/w/proj' || (s % 23) AS directory, '1.18.33' AS version, ${at('s::BIGINT * 3600000')} AS created_at,
       'synthetic' AS source, 'synthetic' AS source_path FROM _syn_x`,
    `INSERT INTO messages BY NAME SELECT ex AS message_id, ses AS session_id, 'user' AS role, 'build' AS agent,
       'anthropic' AS provider_id, 'claude-sonnet-4-5' AS model_id, ${at('base')} AS created_at,
       'synthetic' AS source, 'synthetic' AS source_path FROM _syn_x`,
    `INSERT INTO messages BY NAME SELECT am AS message_id, ses AS session_id, 'assistant' AS role, ex AS parent_message_id,
       'build' AS agent, 'anthropic' AS provider_id, 'claude-sonnet-4-5' AS model_id, ${at('kb')} AS created_at,
       ${at('kb + 19000')} AS completed_at, 'tool-calls' AS finish, 0.0123 AS cost_usd, 12 AS input_tokens,
       340 AS output_tokens, 25 AS reasoning_tokens, 18000 AS cache_read_tokens, 1200 AS cache_write_tokens,
       '/w/proj' || (s % 23) AS root_path, 'synthetic' AS source, 'synthetic' AS source_path FROM _syn_k`,
    `INSERT INTO parts BY NAME SELECT 'prt_s' || substr(am, 6) AS part_id, am AS message_id, ses AS session_id,
       'step-start' AS part_type, 'synthetic' AS source, 'synthetic' AS source_path FROM _syn_k`,
    `INSERT INTO parts BY NAME SELECT 'prt_z' || substr(am, 6) AS part_id, am AS message_id, ses AS session_id,
       'step-finish' AS part_type, 'tool-calls' AS step_reason, 0.0123 AS step_cost, 12 AS step_input_tokens,
       340 AS step_output_tokens, 25 AS step_reasoning_tokens, 18000 AS step_cache_read_tokens,
       1200 AS step_cache_write_tokens, 'synthetic' AS source, 'synthetic' AS source_path FROM _syn_k`,
    `INSERT INTO parts BY NAME SELECT tp AS part_id, am AS message_id, ses AS session_id, 'tool' AS part_type,
       ${at('tb')} AS time_start, ${at('tb + 2500')} AS time_end, 'synthetic' AS source, 'synthetic' AS source_path FROM _syn_t`,
    `INSERT INTO tool_calls BY NAME SELECT tp AS part_id, am AS message_id, ses AS session_id, 'call_' || tp AS call_id,
       ['bash', 'read', 'edit', 'grep'][t % 4 + 1] AS tool_name, CASE WHEN failed THEN 'error' ELSE 'completed' END AS status,
       ${at('tb')} AS started_at, ${at('tb + 2500')} AS ended_at,
       CASE WHEN failed THEN 'Error: ENOENT: no such file or directory' END AS error_message FROM _syn_t`,
    `INSERT INTO exchanges BY NAME SELECT ex AS exchange_id, ses AS session_id, 'complete' AS status, ${at('base')} AS started_at,
       ${at(`base + 500 + ${K} * 20000`)} AS ended_at, 'build' AS agent, 'anthropic' AS provider_id,
       'claude-sonnet-4-5' AS model_id FROM _syn_x`,
    `INSERT INTO exchange_traces BY NAME SELECT ex AS exchange_id, ex AS span_id, NULL AS parent_span_id, 'exchange' AS kind,
       'prompt' AS name, ${at('base')} AS started_at, ${at(`base + 500 + ${K} * 20000`)} AS ended_at, ses AS session_id,
       ex AS message_id, NULL AS part_id FROM _syn_x`,
    `INSERT INTO exchange_traces BY NAME SELECT ex AS exchange_id, 'prt_s' || substr(am, 6) AS span_id, ex AS parent_span_id,
       'llm_call' AS kind, 'chat claude-sonnet-4-5' AS name, ${at('kb')} AS started_at, ${at('kb + 19000')} AS ended_at,
       ses AS session_id, am AS message_id, 'prt_s' || substr(am, 6) AS part_id FROM _syn_k`,
    `INSERT INTO exchange_traces BY NAME SELECT ex AS exchange_id, tp AS span_id, 'prt_s' || substr(am, 6) AS parent_span_id,
       'tool' AS kind, 'execute_tool' AS name, ${at('tb')} AS started_at, ${at('tb + 2500')} AS ended_at,
       ses AS session_id, am AS message_id, tp AS part_id FROM _syn_t`,
    'DROP TABLE _syn_t',
    'DROP TABLE _syn_k',
    'DROP TABLE _syn_x',
  ];
  for (const q of sql) await conn.run(q);
  return spansOf(s);
}

/** The golden tree (test/otel-golden.test.ts; its encoding is compared with the SDK's in otel-encode.test.ts). */
export async function buildGoldenFixture(store: Store): Promise<void> {
  const f = new Fixture(store.conn);
  await f.session('ses_A', { version: '1.18.33' });
  await f.session('ses_B', { parent: 'ses_A', version: '1.18.33' });
  // E1: one message with two steps (older OpenCode), one message without steps, a task → sub-agent
  await f.user('msg_u1', 'ses_A', 0);
  await f.part('prt_u1_text', 'msg_u1', 'ses_A', 'text', {}, { text: 'Fix the bug in parser.ts' });
  await f.assistant('msg_a1', 'ses_A', 'msg_u1', 1000, 9000, { finish: 'stop', cost: 0.03 });
  await f.part('prt_a1_1s', 'msg_a1', 'ses_A', 'step-start');
  await f.tool('prt_a1_2t', 'msg_a1', 'ses_A', 'read', 2000, 2500, {
    input: { filePath: '/w/proj1/parser.ts' },
    output: 'SECRET FILE CONTENT',
  });
  await f.stepFinish(
    'prt_a1_3f',
    'msg_a1',
    'ses_A',
    { input: 10, output: 5, reasoning: 3, read: 100, write: 20 },
    0.01,
    'tool-calls',
  );
  await f.part('prt_a1_4s', 'msg_a1', 'ses_A', 'step-start');
  await f.part(
    'prt_a1_5r',
    'msg_a1',
    'ses_A',
    'retry',
    { time_start: ts(T0 + 5000) },
    {
      attempt: 1,
      error: { name: 'APIError', data: { message: 'Overloaded', statusCode: 529 } },
    },
  );
  await f.part('prt_a1_6x', 'msg_a1', 'ses_A', 'text', { time_start: ts(T0 + 6000) }, { text: 'Done.' });
  await f.stepFinish(
    'prt_a1_7f',
    'msg_a1',
    'ses_A',
    { input: 7, output: 50, reasoning: 0, read: 130, write: 0 },
    0.02,
    'stop',
  );
  await f.assistant('msg_a2', 'ses_A', 'msg_u1', 10000, 12000, {
    tokens: { input: 4, output: 6, reasoning: 2, read: 50, write: 5 },
    cost: 0.005,
    finish: 'stop',
    error: { name: 'APIError', statusCode: 429, message: 'Rate limit exceeded' },
  });
  await f.tool('prt_a2_task', 'msg_a2', 'ses_A', 'task', 10500, 11800, { child: 'ses_B' });
  await f.user('msg_bu', 'ses_B', 10600, { agent: 'explore' });
  await f.assistant('msg_b1', 'ses_B', 'msg_bu', 10700, 11700, {
    agent: 'explore',
    provider: 'openai',
    model: 'gpt-5',
    tokens: { input: 1, output: 2 },
    cost: 0.001,
    finish: 'stop',
  });
  await f.tool('prt_b1_bash', 'msg_b1', 'ses_B', 'bash', 10800, 10900, {
    status: 'error',
    error: 'bash: foo: command not found',
  });
  await f.exchange('msg_u1', 'ses_A', 0, 12000, { status: 'error' });
  const e1 = (
    span: string,
    parent: string | null,
    kind: string,
    at: number,
    end: number | null,
    o: Parameters<Fixture['span']>[6],
  ) => f.span('msg_u1', span, parent, kind, at, end, o);
  await e1('msg_u1', null, 'exchange', 0, 12000, { session: 'ses_A', message: 'msg_u1', name: 'prompt' });
  await e1('prt_a1_1s', 'msg_u1', 'llm_call', 1000, 4000, {
    session: 'ses_A',
    message: 'msg_a1',
    part: 'prt_a1_1s',
  });
  await e1('prt_a1_2t', 'prt_a1_1s', 'tool', 2000, 2500, {
    session: 'ses_A',
    message: 'msg_a1',
    part: 'prt_a1_2t',
  });
  await e1('prt_a1_4s', 'msg_u1', 'llm_call', 4000, 9000, {
    session: 'ses_A',
    message: 'msg_a1',
    part: 'prt_a1_4s',
  });
  await e1('prt_a1_5r', 'prt_a1_4s', 'retry', 5000, 5000, {
    session: 'ses_A',
    message: 'msg_a1',
    part: 'prt_a1_5r',
  });
  await e1('msg_a2', 'msg_u1', 'llm_call', 10000, 12000, { session: 'ses_A', message: 'msg_a2' });
  await e1('prt_a2_task', 'msg_a2', 'tool', 10500, 11800, {
    session: 'ses_A',
    message: 'msg_a2',
    part: 'prt_a2_task',
  });
  await e1('subagent:prt_a2_task', 'prt_a2_task', 'subagent', 10600, 11700, { session: 'ses_B' });
  await e1('msg_b1', 'subagent:prt_a2_task', 'llm_call', 10700, 11700, {
    session: 'ses_B',
    message: 'msg_b1',
  });
  await e1('prt_b1_bash', 'msg_b1', 'tool', 10800, 10900, {
    session: 'ses_B',
    message: 'msg_b1',
    part: 'prt_b1_bash',
  });
  // the sub-agent session's own exchange: already nested in E1, never exported on its own
  await f.exchange('msg_bu', 'ses_B', 10600, 11700);
  await f.span('msg_bu', 'msg_bu', null, 'exchange', 10600, 11700, { session: 'ses_B', message: 'msg_bu' });
  await f.span('msg_bu', 'msg_b1', 'msg_bu', 'llm_call', 10700, 11700, {
    session: 'ses_B',
    message: 'msg_b1',
  });
  // E2: a compaction exchange; its LLM call hangs under the compaction span, which becomes an event
  await f.user('msg_u2', 'ses_A', 20000, { agent: 'compaction' });
  await f.part('prt_u2_c', 'msg_u2', 'ses_A', 'compaction', {}, { auto: true, overflow: false });
  await f.assistant('msg_a3', 'ses_A', 'msg_u2', 20100, 21000, {
    agent: 'compaction',
    tokens: { input: 1000, output: 200 },
    cost: 0.002,
    finish: 'stop',
  });
  await f.exchange('msg_u2', 'ses_A', 20000, 21000, { agent: 'compaction' });
  await f.span('msg_u2', 'msg_u2', null, 'exchange', 20000, 21000, { session: 'ses_A', message: 'msg_u2' });
  await f.span('msg_u2', 'prt_u2_c', 'msg_u2', 'compaction', 20000, 21000, {
    session: 'ses_A',
    message: 'msg_u2',
    part: 'prt_u2_c',
  });
  await f.span('msg_u2', 'msg_a3', 'prt_u2_c', 'llm_call', 20100, 21000, {
    session: 'ses_A',
    message: 'msg_a3',
  });
  // E3: still running (newest in its session, not idle yet at "now"): not exported
  await f.user('msg_u3', 'ses_A', 22000);
  await f.assistant('msg_a4', 'ses_A', 'msg_u3', 22100, null);
  await f.exchange('msg_u3', 'ses_A', 22000, null, { status: 'in_progress' });
  await f.span('msg_u3', 'msg_u3', null, 'exchange', 22000, null, { session: 'ses_A', message: 'msg_u3' });
  await f.span('msg_u3', 'msg_a4', 'msg_u3', 'llm_call', 22100, null, {
    session: 'ses_A',
    message: 'msg_a4',
  });
}
