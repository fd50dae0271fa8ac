// biome-ignore-all lint/suspicious/noExplicitAny: response bodies are untyped JSON in these assertions
/**
 * The HTTP API (issue 7) through `app.request()` on a store built from fixtures: row shapes,
 * filters, pagination, 404s, a 400 naming the parameter on every route, SQL injection payloads on
 * every parameter of every route, the SQL guard, deadlines (503, the process stays healthy),
 * auth, CORS, the response cache, OpenAPI and the docs page.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, disposeApp } from '../src/api/server.ts';
import type { RequestObservation } from '../src/domain/request-observation.ts';
import { traceIdFor } from '../src/domain/trace-ids.ts';
import type { Store } from '../src/store/db.ts';
import { DataDir, rows, stepFinish, stepStart, T0, tool, withSubagent } from './support/analytics.ts';
import { openApiProblems } from './support/openapi-check.ts';

let store: Store;
let app: OpenAPIHono;
const observed: RequestObservation[] = [];
const H = 3_600_000;

/** Answers every /api/ route gives in these tests, each checked against its OpenAPI response schema. */
let checked = 0;
async function get(path: string, a: OpenAPIHono = app, init?: RequestInit) {
  const r = await a.request(path, init);
  const body = (await r.json()) as any;
  expect(openApiProblems(a, init?.method ?? 'GET', path, r.status, body)).toEqual([]);
  checked++;
  return { status: r.status, body, headers: r.headers };
}

beforeAll(async () => {
  const d = withSubagent(new DataDir().project().project('proj2', '/w/proj2'));
  // five more sessions in proj2, one hour apart, one with an API error and a failed tool
  for (let i = 1; i <= 5; i++) {
    const s = `ses_q${i}`;
    const t = T0 + i * H;
    d.session(s, { project: 'proj2', created: t });
    d.user(s, `msg_q${i}u`, t);
    d.assistant(
      s,
      `msg_q${i}a`,
      `msg_q${i}u`,
      {
        created: t + 100,
        completed: t + 2000,
        model: i === 5 ? 'gpt-5' : 'claude-sonnet-4-5',
        provider: i === 5 ? 'openai' : 'anthropic',
        tokens: { input: 100 * i, output: 10 * i },
        cost: 0.1 * i,
        ...(i === 3
          ? { error: { name: 'APIError', data: { message: 'Rate limit exceeded', statusCode: 429 } } }
          : {}),
      },
      [
        stepStart(),
        tool('read', t + 200, t + 200 + 10 * i, i === 3 ? { error: 'Error: File not found: /x' } : {}),
        stepFinish({ input: 100 * i, output: 10 * i }, 0.1 * i),
      ],
    );
  }
  store = await d.ingest();
  app = createApp({ store, enableSql: true, onRequest: (r) => observed.push(r), sqlTimeoutMs: 300 });
});

afterAll(() => {
  disposeApp(app);
  store?.close();
});

describe('list routes: { data: [flat rows], next_cursor }', () => {
  it('GET /api/sessions: contract columns, ISO times, trace_id of the first exchange', async () => {
    const { status, body } = await get('/api/sessions');
    expect(status).toBe(200);
    expect(body.next_cursor).toBeNull();
    expect(body.data).toHaveLength(7);
    const p = body.data.find((r: any) => r.session_id === 'ses_p');
    for (const col of [
      'session_id',
      'title',
      'project_id',
      'project',
      'agent',
      'model_id',
      'provider_id',
      'started_at',
      'ended_at',
      'duration_ms',
      'exchange_count',
      'input_tokens',
      'output_tokens',
      'reasoning_tokens',
      'cache_read_tokens',
      'cache_write_tokens',
      'cost_usd',
      'computed_cost_usd',
      'error_count',
      'parent_session_id',
      'trace_id',
    ])
      expect(p).toHaveProperty(col);
    expect(p).toMatchObject({
      project_id: 'proj1',
      project: '/w/proj1',
      model_id: 'claude-sonnet-4-5',
      provider_id: 'anthropic',
      started_at: new Date(T0).toISOString(),
      input_tokens: 10,
      cost_usd: 1,
      parent_session_id: null,
      trace_id: traceIdFor('msg_pu'),
    });
    expect(p).not.toHaveProperty('sort_key');
    // a sub-agent session's trace is its parent's top-level exchange's trace (where its spans are)
    const c = body.data.find((r: any) => r.session_id === 'ses_c');
    expect(c).toMatchObject({ parent_session_id: 'ses_p', trace_id: traceIdFor('msg_pu'), agent: 'general' });
    for (const r of body.data)
      for (const v of Object.values(r)) if (v !== null) expect(typeof v).not.toBe('object');
  });

  it('GET /api/sessions filters: project, agent, model, from/to (ISO and epoch ms), min_cost, root_only', async () => {
    const ids = async (q: string) =>
      (await get(`/api/sessions?${q}`)).body.data.map((r: any) => r.session_id).sort();
    expect(await ids('project=proj2')).toEqual(['ses_q1', 'ses_q2', 'ses_q3', 'ses_q4', 'ses_q5']);
    expect(await ids('project=/w/proj2')).toHaveLength(5);
    expect(await ids('agent=general')).toEqual(['ses_c']);
    expect(await ids('model=gpt-5')).toEqual(['ses_q5']);
    expect(await ids('model=openai/gpt-5')).toEqual(['ses_q5']);
    expect(await ids(`from=${new Date(T0 + 2 * H).toISOString()}&to=${T0 + 4 * H}`)).toEqual([
      'ses_q2',
      'ses_q3',
    ]);
    // a date-time without a zone is UTC
    const noZone = new Date(T0 + 2 * H).toISOString().slice(0, 19).replace('T', ' ');
    expect(await ids(`from=${encodeURIComponent(noZone)}&to=${T0 + 4 * H}`)).toEqual(['ses_q2', 'ses_q3']);
    expect(await ids('min_cost=0.35')).toEqual(['ses_c', 'ses_p', 'ses_q4', 'ses_q5']);
    expect(await ids('root_only=true')).not.toContain('ses_c');
  });

  it('GET /api/sessions: sort and cursor pagination walk every row once', async () => {
    for (const [sort, order] of [
      ['started_at', 'desc'],
      ['cost_usd', 'asc'],
      ['computed_cost_usd', 'desc'],
      ['tokens', 'desc'],
    ]) {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const q: string = `/api/sessions?sort=${sort}&order=${order}&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
        const { status, body } = await get(q);
        expect(status).toBe(200);
        seen.push(...body.data.map((r: any) => r.session_id));
        cursor = body.next_cursor;
        pages++;
      } while (cursor && pages < 10);
      expect(seen).toHaveLength(7);
      expect(new Set(seen).size).toBe(7);
    }
    const all = (await get('/api/sessions?sort=started_at&order=asc')).body.data.map(
      (r: any) => r.started_at,
    );
    expect(all).toEqual([...all].sort());
    // a cursor from another sort is refused
    const c = (await get('/api/sessions?limit=1')).body.next_cursor;
    const bad = await get(`/api/sessions?limit=1&sort=cost_usd&cursor=${c}`);
    expect(bad.status).toBe(400);
    expect(bad.body.parameter).toBe('cursor');
  });

  it('GET /api/usage grouped by day, hour, model, provider, agent, project', async () => {
    const day = (await get('/api/usage?group_by=day')).body;
    expect(day.next_cursor).toBeNull();
    expect(day.data).toHaveLength(1);
    expect(day.data[0]).toMatchObject({
      bucket: '2026-01-02T00:00:00.000Z',
      input_tokens: 10 + 5 + 1500,
      output_tokens: 150,
      reasoning_tokens: 0,
      cache_read_tokens: 0,
      cache_write_tokens: 0,
      exchanges: 7,
    });
    expect(day.data[0].cost_usd).toBeCloseTo(3, 6);
    expect(day.data[0]).toHaveProperty('computed_cost_usd');
    const hour = (await get('/api/usage?group_by=hour')).body.data;
    expect(hour.map((r: any) => r.bucket)).toEqual(
      [0, 1, 2, 3, 4, 5].map((i) => new Date(T0 + i * H).toISOString()),
    );
    const model = (await get('/api/usage?group_by=model')).body.data.map((r: any) => r.bucket).sort();
    expect(model).toEqual(['claude-sonnet-4-5', 'gpt-5']);
    expect((await get('/api/usage?group_by=provider')).body.data.map((r: any) => r.bucket).sort()).toEqual([
      'anthropic',
      'openai',
    ]);
    expect((await get('/api/usage?group_by=agent')).body.data.map((r: any) => r.bucket).sort()).toEqual([
      'build',
      'general',
    ]);
    const proj = (await get(`/api/usage?group_by=project&from=${T0 + 30 * 60_000}`)).body.data;
    expect(proj).toEqual([expect.objectContaining({ bucket: 'proj2', input_tokens: 1500, exchanges: 5 })]);
  });

  it('GET /api/tools: count, errors, error rate, percentiles', async () => {
    const { body } = await get('/api/tools');
    const read = body.data.find((r: any) => r.tool === 'read');
    expect(read).toMatchObject({ tool: 'read', calls: 5, errors: 1, error_rate: 0.2 });
    expect(read.p50_ms).toBe(30);
    expect(read.p95_ms).toBeGreaterThan(read.p50_ms);
    expect(read.p99_ms).toBeGreaterThanOrEqual(read.p95_ms);
    expect(body.data.map((r: any) => r.tool).sort()).toEqual(['bash', 'read', 'task']);
    expect((await get('/api/tools?project=proj1')).body.data.map((r: any) => r.tool).sort()).toEqual([
      'bash',
      'task',
    ]);
  });

  it('GET /api/errors: by category with an example', async () => {
    const { body } = await get('/api/errors');
    expect(body.data).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          category: 'rate_limit',
          source: 'message',
          provider_id: 'anthropic',
          model_id: 'claude-sonnet-4-5',
          count: 1,
          example: 'Rate limit exceeded',
          last_seen: expect.stringMatching(/Z$/),
        }),
        expect.objectContaining({ source: 'tool', count: 1, example: 'Error: File not found: /x' }),
      ]),
    );
    expect((await get('/api/errors?source=tool')).body.data.every((r: any) => r.source === 'tool')).toBe(
      true,
    );
    expect((await get('/api/errors?category=rate_limit')).body.data).toHaveLength(1);
  });

  it('GET /api/projects and /api/models (with pricing)', async () => {
    const p = (await get('/api/projects')).body.data;
    expect(p.map((r: any) => [r.project_id, r.sessions]).sort()).toEqual([
      ['proj1', 2],
      ['proj2', 5],
    ]);
    const m = (await get('/api/models')).body.data;
    const sonnet = m.find((r: any) => r.model_id === 'claude-sonnet-4-5');
    expect(sonnet).toMatchObject({ provider_id: 'anthropic', price_match: 'exact', llm_messages: 6 });
    expect(sonnet.input_per_mtok).toBeGreaterThan(0);
    expect(sonnet.output_per_mtok).toBeGreaterThan(0);
  });
});

describe('overview routes', () => {
  const sum = (rs: any[], k: string) => rs.reduce((a, r) => a + Number(r[k] ?? 0), 0);
  it('GET /api/summary: the totals of /api/usage, /api/sessions, /api/tools and /api/errors, per range and project', async () => {
    for (const q of ['', `from=${T0 + 2 * H}&to=${T0 + 4 * H + 1}`, 'project=proj2']) {
      const [s, u, ss, t, e] = (
        await Promise.all(
          ['summary', 'usage', 'sessions?limit=1000&', 'tools', 'errors'].map((r) =>
            get(`/api/${r}${r.endsWith('&') ? '' : '?'}${q}`),
          ),
        )
      ).map((r) => r.body);
      const row = s.data[0];
      expect(s.data).toHaveLength(1);
      for (const k of [
        'input_tokens',
        'output_tokens',
        'cache_read_tokens',
        'cache_write_tokens',
        'llm_messages',
      ])
        expect(row[k], `${k} ${q}`).toBe(sum(u.data, k));
      expect(row.cost_usd).toBeCloseTo(sum(u.data, 'cost_usd'), 9);
      expect(row.tokens).toBe(
        ['input_tokens', 'output_tokens', 'reasoning_tokens', 'cache_read_tokens', 'cache_write_tokens']
          .map((k) => sum(u.data, k))
          .reduce((a, b) => a + b, 0),
      );
      expect(row.sessions, q).toBe(ss.data.length);
      expect(row.tool_calls, q).toBe(sum(t.data, 'calls'));
      expect(row.tool_errors, q).toBe(sum(t.data, 'errors'));
      expect(row.errors, q).toBe(sum(e.data, 'count'));
    }
    const all = (await get('/api/summary')).body.data[0];
    expect(all).toMatchObject({ sessions: 7, tool_errors: 1 });
    expect(all.cost_usd).toBeGreaterThan(1.5);
    expect((await get(`/api/summary?from=${T0 + 100 * H}`)).body.data[0]).toMatchObject({
      sessions: 0,
      llm_messages: 0,
      cost_usd: 0,
      computed_cost_usd: null,
    });
  });

  it('GET /api/health/checks: the latest stored run, failing first; empty before any run', async () => {
    expect((await get('/api/health/checks')).body).toEqual({ data: [], next_cursor: null });
    const ins = (run: string, at: string, id: string, status: string) =>
      store.conn.run(
        `INSERT INTO health_check_history VALUES ('${run}', TIMESTAMP '${at}', '${id}', '${status}', 1, NULL, 2, 'x')`,
      );
    await ins('r1', '2026-01-01 00:00:00', 'a_check', 'fail');
    await ins('r2', '2026-01-02 00:00:00', 'a_check', 'pass');
    await ins('r2', '2026-01-02 00:00:00', 'z_check', 'fail');
    const { body } = await get('/api/health/checks');
    expect(body.data.map((r: any) => [r.run_id, r.check_id, r.status])).toEqual([
      ['r2', 'z_check', 'fail'],
      ['r2', 'a_check', 'pass'],
    ]);
    expect(body.data[0].checked_at).toBe('2026-01-02T00:00:00.000Z');
    await store.conn.run('DELETE FROM health_check_history');
  });
});

describe('detail routes', () => {
  it('GET /api/sessions/:id with exchanges and sub-agent children', async () => {
    const { status, body } = await get('/api/sessions/ses_p');
    expect(status).toBe(200);
    expect(body.data).toMatchObject({ session_id: 'ses_p', trace_id: traceIdFor('msg_pu') });
    expect(body.data.exchanges).toEqual([
      expect.objectContaining({ exchange_id: 'msg_pu', exchange_index: 1, trace_id: traceIdFor('msg_pu') }),
    ]);
    expect(body.data.children.map((r: any) => r.session_id)).toEqual(['ses_c']);
    const child = await get('/api/sessions/ses_c');
    expect(child.body.data.exchanges[0]).toMatchObject({
      parent_exchange_id: 'msg_pu',
      trace_id: traceIdFor('msg_pu'),
    });
  });

  it('GET /api/sessions/:id/trace: one tree under the session span', async () => {
    const { status, body } = await get('/api/sessions/ses_p/trace');
    expect(status).toBe(200);
    const spans = body.data;
    const ids = new Set(spans.map((s: any) => s.span_id));
    expect(spans.filter((s: any) => s.parent_span_id === null)).toEqual([
      expect.objectContaining({ span_id: 'session:ses_p', kind: 'session' }),
    ]);
    for (const s of spans) if (s.parent_span_id !== null) expect(ids.has(s.parent_span_id)).toBe(true);
    expect(spans.map((s: any) => s.kind)).toEqual(
      expect.arrayContaining(['exchange', 'llm_call', 'tool', 'subagent']),
    );
    expect(spans.every((s: any) => s.attributes === null)).toBe(true);
    expect(spans[0]).toMatchObject({ started_at: new Date(T0).toISOString(), depth: 0, clamped: false });
    for (const s of spans) {
      expect(s.started_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      expect(typeof s.duration_ms).toBe('number');
    }
    const full = (await get('/api/sessions/ses_p/trace?attributes=true')).body.data;
    expect(full.find((s: any) => s.kind === 'llm_call').attributes).toEqual(expect.any(Object));
    expect((await get('/api/sessions/ses_p/trace?attributes=yes')).status).toBe(400);
  });

  it('GET /api/exchanges/:id with spans', async () => {
    const { status, body } = await get('/api/exchanges/msg_q3u');
    expect(status).toBe(200);
    expect(body.data).toMatchObject({ exchange_id: 'msg_q3u', session_id: 'ses_q3', status: 'error' });
    expect(body.data.spans.length).toBeGreaterThan(1);
    expect(body.data.spans.find((s: any) => s.kind === 'llm_call').attributes).toEqual(expect.any(Object));
  });

  it('unknown IDs: 404 JSON', async () => {
    for (const p of ['/api/sessions/ses_nope', '/api/sessions/ses_nope/trace', '/api/exchanges/msg_nope']) {
      const r = await get(p);
      expect(r.status, p).toBe(404);
      expect(r.body.error).toBe('not found');
    }
    expect((await get('/api/nothing')).status).toBe(404);
  });
});

describe('bad input', () => {
  const cases: [string, string][] = [
    ['/api/sessions?from=yesterday', 'from'],
    ['/api/sessions?to=2026-13-45T99:00', 'to'],
    ['/api/sessions?limit=0', 'limit'],
    ['/api/sessions?limit=abc', 'limit'],
    ['/api/sessions?limit=100000', 'limit'],
    ['/api/sessions?min_cost=-1', 'min_cost'],
    ['/api/sessions?sort=title', 'sort'],
    ['/api/sessions?order=sideways', 'order'],
    ['/api/sessions?cursor=notacursor', 'cursor'],
    ['/api/sessions?root_only=maybe', 'root_only'],
    [`/api/sessions?project=${'x'.repeat(600)}`, 'project'],
    ['/api/usage?group_by=week', 'group_by'],
    ['/api/usage?from=1e999', 'from'],
    ['/api/tools?to=soon', 'to'],
    ['/api/errors?source=kernel', 'source'],
    ['/api/projects?from=%00', 'from'],
    ['/api/models?to=--', 'to'],
    ['/api/health?probe=deep', 'probe'],
    [`/api/sessions/${'x'.repeat(300)}`, 'id'],
    [`/api/sessions/${'x'.repeat(300)}/trace`, 'id'],
    [`/api/exchanges/${'x'.repeat(300)}`, 'id'],
  ];
  it.each(cases)('%s → 400 naming %s', async (path, param) => {
    const { status, body } = await get(path);
    expect(status).toBe(400);
    expect(body).toMatchObject({ error: 'invalid parameter', parameter: param });
  });

  it('POST /api/query with a bad body → 400', async () => {
    for (const body of [
      '{',
      '{}',
      JSON.stringify({ sql: 1 }),
      JSON.stringify({ sql: 'select 1', limit: 0 }),
    ]) {
      const r = await app.request('/api/query', {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json' },
      });
      expect(r.status, body).toBe(400);
    }
  });
});

describe('SQL injection payloads on every parameter of every route', () => {
  const payloads = [
    "' OR '1'='1",
    "'; DROP TABLE sessions; --",
    "ses_p' UNION SELECT * FROM projects --",
    '1; DELETE FROM messages',
    "\\'; COPY sessions TO '/tmp/pwn.csv'; --",
    "') OR 1=1 --",
    '" OR ""="',
    "x' AND (SELECT count(*) FROM read_csv('/etc/passwd')) > 0 --",
  ];
  const textParams: [string, string[]][] = [
    [
      '/api/sessions',
      ['project', 'agent', 'model', 'parent', 'from', 'to', 'min_cost', 'sort', 'order', 'cursor', 'limit'],
    ],
    ['/api/usage', ['project', 'agent', 'model', 'provider', 'group_by', 'from', 'to']],
    ['/api/tools', ['project', 'from', 'to']],
    ['/api/errors', ['project', 'category', 'source', 'from', 'to']],
    ['/api/projects', ['from', 'to']],
    ['/api/summary', ['project', 'from', 'to']],
    ['/api/models', ['project', 'agent', 'model', 'provider', 'from', 'to']],
  ];
  it('query parameters: bound or refused (200 with no rows, or 400), never executed', async () => {
    const before = await rows(
      store,
      'SELECT (SELECT count(*) FROM sessions) s, (SELECT count(*) FROM messages) m',
    );
    for (const [route, params] of textParams)
      for (const param of params)
        for (const p of payloads) {
          const r = await get(`${route}?${param}=${encodeURIComponent(p)}`);
          expect([200, 400], `${route} ${param}=${p}`).toContain(r.status);
          if (r.status === 200 && route === '/api/summary')
            expect(r.body.data[0], `${route} ${param}=${p}`).toMatchObject({ sessions: 0, llm_messages: 0 });
          else if (r.status === 200) expect(r.body.data, `${route} ${param}=${p}`).toEqual([]);
          else expect(r.body.parameter).toBe(param);
        }
    for (const p of payloads)
      for (const route of ['/api/sessions/', '/api/exchanges/']) {
        const r = await get(`${route}${encodeURIComponent(p)}`);
        expect(r.status, `${route}${p}`).toBe(404);
        const t = await get(`/api/sessions/${encodeURIComponent(p)}/trace`);
        expect(t.status).toBe(404);
      }
    expect(
      await rows(store, 'SELECT (SELECT count(*) FROM sessions) s, (SELECT count(*) FROM messages) m'),
    ).toEqual(before);
  });
});

describe('POST /api/query: read-only SQL', () => {
  const sql = async (q: string, a = app) => {
    const r = await a.request('/api/query', {
      method: 'POST',
      body: JSON.stringify({ sql: q }),
      headers: { 'content-type': 'application/json' },
    });
    const body = (await r.json()) as any;
    expect(openApiProblems(a, 'POST', '/api/query', r.status, body)).toEqual([]);
    return { status: r.status, body };
  };

  it('off by default: 403', async () => {
    const off = createApp({ store });
    expect((await sql('SELECT 1', off)).status).toBe(403);
    disposeApp(off);
  });

  it('answers one SELECT with rows, columns and a row limit', async () => {
    const r = await sql('SELECT session_id FROM sessions ORDER BY session_id');
    expect(r.status).toBe(200);
    expect(r.body.data).toHaveLength(7);
    expect(r.body.columns).toEqual([{ name: 'session_id', type: 'VARCHAR' }]);
    const lim = createApp({ store, enableSql: true, sqlRowLimit: 3 });
    const big = await sql('SELECT * FROM range(100000)', lim);
    expect(big.body.data).toHaveLength(3);
    expect(big.body.truncated).toBe(true);
    disposeApp(lim);
  });

  it.each([
    "INSERT INTO projects (project_id) VALUES ('x')",
    "UPDATE sessions SET title = 'x'",
    'DELETE FROM sessions',
    'DROP TABLE sessions',
    'CREATE TABLE x AS SELECT 1',
    "COPY sessions TO '/tmp/ocb-pwn.csv'",
    "ATTACH '/tmp/ocb-pwn.duckdb' AS pwn",
    'INSTALL httpfs',
    'LOAD httpfs',
    "SET memory_limit = '1GB'",
    "SELECT set_config('x', 'y')",
    "PRAGMA memory_limit='1GB'",
    'CHECKPOINT',
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_text('/etc/passwd')",
    "SELECT * FROM '/etc/passwd'",
    "SELECT * FROM query('SELECT 1')",
    "SELECT nextval('derive_queue_seq')",
    'SELECT 1; DELETE FROM sessions',
    'EXPLAIN ANALYZE SELECT 1',
    'BEGIN TRANSACTION',
    'CALL pragma_version()',
    "EXPORT DATABASE '/tmp/ocb-pwn'",
  ])('refuses %s', async (q) => {
    const r = await sql(q);
    expect(r.status).toBe(400);
    expect(r.body.error).toMatch(/sql refused|invalid/);
  });

  it('the data is unchanged after the refused statements', async () => {
    expect((await rows(store, 'SELECT count(*) n FROM sessions'))[0]!.n).toBe(7);
    expect((await rows(store, "SELECT count(*) n FROM projects WHERE project_id = 'x'"))[0]!.n).toBe(0);
  });

  it('a query over its deadline gets 503, and the server stays healthy', async () => {
    const t0 = performance.now();
    const r = await sql('SELECT count(*) FROM range(1000000000000) a');
    expect(r.status).toBe(503);
    expect(r.body.error).toBe('query timeout');
    expect(performance.now() - t0).toBeLessThan(10_000);
    // the interrupted connection was replaced: following queries run normally
    for (let i = 0; i < 6; i++) expect((await get('/api/tools')).status).toBe(200);
    expect((await sql('SELECT 42 AS x')).body.data).toEqual([{ x: 42 }]);
    expect((await get('/api/health')).body).toMatchObject({ live: true, ready: true });
  });

  it('a route over its deadline gets 503', async () => {
    const slow = createApp({ store, queryTimeoutMs: 1 });
    // keep the pool's connections busy long enough that a 1 ms deadline always fires
    const r = await get('/api/sessions/ses_p', slow);
    expect([200, 503]).toContain(r.status);
    const statuses = await Promise.all(
      Array.from({ length: 8 }, () => get('/api/usage?group_by=hour', slow)),
    );
    expect(statuses.some((s) => s.status === 503)).toBe(true);
    for (const s of statuses.filter((x) => x.status === 503)) expect(s.body.error).toBe('query timeout');
    disposeApp(slow);
    expect((await get('/api/usage')).status).toBe(200);
  });
});

describe('health, auth, CORS, cache, OpenAPI, docs', () => {
  it('GET /api/health: liveness, readiness from the injected callback', async () => {
    expect((await get('/api/health')).body).toMatchObject({
      status: 'ok',
      live: true,
      ready: true,
      mode: 'serve',
    });
    let ready = false;
    const a = createApp({
      store,
      mode: 'run',
      readiness: () => ({ ready, ingest: { phase: ready ? 'live' : 'loading' } }),
    });
    expect(await get('/api/health', a)).toMatchObject({
      status: 200,
      body: { live: true, ready: false, status: 'starting', ingest: { phase: 'loading' } },
    });
    expect((await get('/api/health?probe=ready', a)).status).toBe(503);
    ready = true;
    expect((await get('/api/health?probe=ready', a)).status).toBe(200);
    disposeApp(a);
  });

  it('bearer token on every route but /api/health', async () => {
    const a = createApp({ store, apiToken: 's3cret', enableSql: true, localCredential: 'l'.repeat(43) });
    for (const p of ['/api/sessions', '/api/usage', '/openapi.json', '/api/docs', '/api/sessions/ses_p']) {
      expect((await a.request(p)).status, p).toBe(401);
      expect((await a.request(p, { headers: { authorization: 'Bearer wrong' } })).status, p).toBe(401);
      expect((await a.request(p, { headers: { authorization: 'Bearer s3cret' } })).status, p).toBe(200);
    }
    expect((await a.request('/api/query', { method: 'POST', body: '{"sql":"select 1"}' })).status).toBe(401);
    expect((await a.request('/api/health')).status).toBe(200);
    // a browser: pages go to /login; POST /login with the right token sets the HttpOnly cookie, which opens the API
    const html = { accept: 'text/html' };
    const page = await a.request('/sessions/ses_p', { headers: html });
    expect([page.status, page.headers.get('location')]).toEqual([302, '/login?next=%2Fsessions%2Fses_p']);
    expect((await a.request('/api/sessions', { headers: html })).status).toBe(401);
    expect((await a.request('/login')).status).toBe(200);
    const login = (token: string, next = '/sessions/ses_p') =>
      a.request('/login', { method: 'POST', body: new URLSearchParams({ token, next }) });
    const bad = await login('wrong');
    expect([bad.status, bad.headers.get('set-cookie')]).toEqual([401, null]);
    const good = await login('s3cret');
    expect([good.status, good.headers.get('location')]).toEqual([303, '/sessions/ses_p']);
    const cookie = good.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^ocbridge_token=s3cret; Path=\/; HttpOnly; SameSite=Strict/);
    expect((await login('s3cret', '//evil.example/x')).headers.get('location')).toBe('/');
    const withCookie = { cookie: cookie.split(';')[0] ?? '' };
    expect((await a.request('/api/sessions', { headers: withCookie })).status).toBe(200);
    expect((await a.request('/api/sessions', { headers: { cookie: 'ocbridge_token=wrong' } })).status).toBe(
      401,
    );
    // the local credential opens the internal routes (and the API); the API token does not open them
    const internal = (h: Record<string, string>) =>
      a.request('/internal/query', { method: 'POST', body: '{"sql":"select 1 as one"}', headers: h });
    expect((await internal({ authorization: 'Bearer s3cret' })).status).toBe(401);
    expect((await internal({ 'x-ocbridge-credential': 'wrong' })).status).toBe(401);
    const ok = await internal({ 'x-ocbridge-credential': 'l'.repeat(43) });
    expect(await ok.json()).toMatchObject({ data: [{ one: 1 }] });
    expect(
      (await a.request('/api/tools', { headers: { 'x-ocbridge-credential': 'l'.repeat(43) } })).status,
    ).toBe(200);
    const rep = await a.request('/internal/report', {
      method: 'POST',
      body: JSON.stringify({ report: 'tools' }),
      headers: { 'x-ocbridge-credential': 'l'.repeat(43) },
    });
    expect(((await rep.json()) as any).data.map((r: any) => r.tool_name).sort()).toEqual([
      'bash',
      'read',
      'task',
    ]);
    disposeApp(a);
    // an empty token (OCBRIDGE_API_TOKEN= in a compose file) is no token
    const open = createApp({ store, apiToken: '' });
    expect((await open.request('/api/sessions')).status).toBe(200);
    disposeApp(open);
    // without a local credential there are no internal routes
    expect((await app.request('/internal/query', { method: 'POST', body: '{}' })).status).toBe(401);
  });

  it('CORS off by default, on for one origin', async () => {
    const h = { origin: 'https://grafana.example' };
    expect(
      (await app.request('/api/tools', { headers: h })).headers.get('access-control-allow-origin'),
    ).toBeNull();
    const a = createApp({ store, corsOrigin: 'https://grafana.example' });
    expect((await a.request('/api/tools', { headers: h })).headers.get('access-control-allow-origin')).toBe(
      'https://grafana.example',
    );
    disposeApp(a);
  });

  it('the response cache answers repeated URLs until the data version changes', async () => {
    let v = 1;
    const a = createApp({ store, dataVersion: () => v });
    const first = await (await a.request('/api/projects')).text();
    await store.conn.run("UPDATE projects SET name = 'renamed' WHERE project_id = 'proj1'");
    expect(await (await a.request('/api/projects')).text()).toBe(first);
    v = 2;
    const fresh = await get('/api/projects', a);
    expect(fresh.body.data.find((r: any) => r.project_id === 'proj1').project).toBe('renamed');
    await store.conn.run("UPDATE projects SET name = NULL WHERE project_id = 'proj1'");
    disposeApp(a);
  });

  it('/metrics is the injected handler (behind the token like every route but health)', async () => {
    const a = createApp({
      store,
      apiToken: 't',
      metrics: {
        handle: () => new Response('# metrics\nup 1\n', { headers: { 'content-type': 'text/plain' } }),
      },
    });
    expect((await a.request('/metrics')).status).toBe(401);
    const r = await a.request('/metrics', { headers: { authorization: 'Bearer t' } });
    expect(await r.text()).toBe('# metrics\nup 1\n');
    disposeApp(a);
  });

  it('onRequest sees route patterns, not raw paths', () => {
    const routes = new Set(observed.map((o) => o.route));
    expect(routes).toContain('/api/sessions/:id');
    expect(routes).toContain('/api/sessions/:id/trace');
    expect([...routes].some((r) => r.includes('ses_p'))).toBe(false);
  });

  it('GET /openapi.json documents every route, generated from the zod schemas', async () => {
    const { status, body } = await get('/openapi.json');
    expect(status).toBe(200);
    expect(Object.keys(body.paths).sort()).toEqual([
      '/api/errors',
      '/api/exchanges/{id}',
      '/api/health',
      '/api/health/checks',
      '/api/models',
      '/api/projects',
      '/api/query',
      '/api/sessions',
      '/api/sessions/{id}',
      '/api/sessions/{id}/trace',
      '/api/summary',
      '/api/tools',
      '/api/usage',
    ]);
    const params = body.paths['/api/sessions'].get.parameters.map((p: any) => p.name);
    expect(params).toEqual(
      expect.arrayContaining(['from', 'to', 'project', 'agent', 'model', 'min_cost', 'sort', 'cursor']),
    );
    expect(Object.keys(body.components.schemas.Session.properties)).toContain('trace_id');
  });

  it('GET /api/docs is self-contained HTML', async () => {
    const r = await app.request('/api/docs');
    expect(r.headers.get('content-type')).toMatch(/text\/html/);
    const html = await r.text();
    expect(html).toContain('/api/sessions/{id}/trace');
    expect(html).not.toMatch(/<script|https?:\/\/(?!127)/);
  });
});

describe('every answer above matched its OpenAPI response schema', () => {
  it('the check ran on the answers, and it fails on a wrong shape, an undocumented route or status', () => {
    expect(checked).toBeGreaterThan(40);
    const wrong = { data: [{ session_id: 5, started_at: 'yesterday' }], next_cursor: null };
    expect(openApiProblems(app, 'GET', '/api/sessions', 200, wrong)).not.toEqual([]);
    expect(openApiProblems(app, 'GET', '/api/sessions', 200, { rows: [] })).not.toEqual([]);
    expect(openApiProblems(app, 'GET', '/api/nowhere', 200, {})).not.toEqual([]);
    expect(openApiProblems(app, 'GET', '/api/sessions', 418, {})).not.toEqual([]);
  });
});
