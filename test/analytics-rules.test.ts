import { afterEach, describe, expect, it } from 'vitest';
import type { Store } from '../src/store/db.ts';
import { DataDir, rows, stepFinish, stepStart, T0, text, tool, withSubagent } from './support/analytics.ts';

let store: Store | undefined;
afterEach(() => {
  store?.close();
  store = undefined;
});

const num = (v: unknown) => Number(v);

describe('analytics rules (one small fixture per rule)', () => {
  it('token arithmetic per step: steps carry their own tokens, messages/exchanges/sessions/days the sums', async () => {
    const d = new DataDir().project().session('ses_a');
    d.user('ses_a', 'msg_u1', T0);
    // two LLM calls in one message; the message's own tokens are the last step's (OpenCode overwrites)
    d.assistant(
      'ses_a',
      'msg_a1',
      'msg_u1',
      { created: T0 + 100, completed: T0 + 5000, tokens: { input: 30, output: 7 }, cost: 0.3 },
      [
        stepStart('s0'),
        text(T0 + 200, T0 + 300),
        tool('read', T0 + 400, T0 + 900, { input: { filePath: '/w/proj1/a.ts' } }),
        stepFinish({ input: 100, output: 20, reasoning: 5, read: 1000, write: 50 }, 0.1, 'tool-calls', 's1'),
        stepStart('s1'),
        text(T0 + 1200, T0 + 4000),
        stepFinish({ input: 30, output: 7, read: 1200 }, 0.2, 'stop', 's2'),
      ],
    );
    store = await d.ingest();
    const steps = await rows(store, 'SELECT * FROM steps ORDER BY step_index');
    expect(
      steps.map((s) => [
        s.step_index,
        s.input_tokens,
        s.output_tokens,
        s.reasoning_tokens,
        s.cache_read_tokens,
        s.cache_write_tokens,
        s.cost_usd,
        s.finish_reason,
      ]),
    ).toEqual([
      [1, 100, 20, 5, 1000, 50, 0.1, 'tool-calls'],
      [2, 30, 7, 0, 1200, 0, 0.2, 'stop'],
    ]);
    expect(steps.map((s) => [s.snapshot_start, s.snapshot_end, s.tool_call_count])).toEqual([
      ['s0', 's1', 1],
      ['s1', 's2', 0],
    ]);
    // step 1 ends with its last part, step 2 starts there and ends when the message completed
    expect(steps[0]!.ended_at).toBe(new Date(T0 + 900).toISOString());
    expect(steps[1]!.started_at).toBe(new Date(T0 + 900).toISOString());
    expect(steps[1]!.ended_at).toBe(new Date(T0 + 5000).toISOString());
    const [m] = await rows(store, "SELECT * FROM message_facts WHERE role = 'assistant'");
    expect([
      m!.input_tokens,
      m!.output_tokens,
      m!.reasoning_tokens,
      m!.cache_read_tokens,
      m!.cache_write_tokens,
    ]).toEqual([130, 27, 5, 2200, 50]);
    const [e] = await rows(store, 'SELECT * FROM exchanges');
    expect([
      e!.input_tokens,
      e!.output_tokens,
      e!.step_count,
      e!.tool_call_count,
      e!.status,
      e!.kind,
    ]).toEqual([130, 27, 2, 1, 'complete', 'prompt']);
    expect(num(e!.cost_usd)).toBeCloseTo(0.3, 10);
    const [s] = await rows(store, 'SELECT * FROM session_resource_metrics');
    expect([
      s!.input_tokens,
      s!.cache_read_tokens,
      s!.exchange_count,
      s!.step_count,
      s!.total_tool_time_ms,
    ]).toEqual([130, 2200, 1, 2, 500]);
    const [day] = await rows(store, 'SELECT * FROM daily_stats');
    expect([day!.input_tokens, day!.cache_write_tokens, day!.assistant_message_count]).toEqual([130, 50, 1]);
    const ops = await rows(store, 'SELECT operation, file_path FROM file_operations');
    expect(ops).toEqual([{ operation: 'read', file_path: '/w/proj1/a.ts' }]);
    // spans: exchange → 2 llm_calls, the tool under the first
    const spans = await rows(
      store,
      'SELECT span_id, parent_span_id, kind FROM exchange_traces ORDER BY span_index',
    );
    const llm = spans.filter((x) => x.kind === 'llm_call');
    expect(llm.map((x) => x.parent_span_id)).toEqual(['msg_u1', 'msg_u1']);
    expect(spans.find((x) => x.kind === 'tool')!.parent_span_id).toBe(llm[0]!.span_id);
  });

  it('one exchange per user message, indexed by time even when IDs sort the other way (ID clock wrap)', async () => {
    const d = new DataDir().project().session('ses_a');
    // msg_z… is older than msg_a… (IDs wrapped)
    d.user('ses_a', 'msg_z1', T0);
    d.assistant('ses_a', 'msg_z2', 'msg_z1', { created: T0 + 10 }, [stepStart(), stepFinish({ input: 1 })]);
    d.user('ses_a', 'msg_a1', T0 + 10_000);
    d.assistant('ses_a', 'msg_a2', 'msg_a1', { created: T0 + 10_010 }, [
      stepStart(),
      stepFinish({ input: 2 }),
    ]);
    d.user('ses_a', 'msg_b1', T0 + 20_000); // not answered yet
    store = await d.ingest();
    const ex = await rows(
      store,
      'SELECT exchange_id, exchange_index, status, input_tokens FROM exchanges ORDER BY exchange_index',
    );
    expect(ex).toEqual([
      { exchange_id: 'msg_z1', exchange_index: 1, status: 'complete', input_tokens: 1 },
      { exchange_id: 'msg_a1', exchange_index: 2, status: 'complete', input_tokens: 2 },
      { exchange_id: 'msg_b1', exchange_index: 3, status: 'in_progress', input_tokens: 0 },
    ]);
    const [n] = await rows(
      store,
      "SELECT (SELECT count(*) FROM messages WHERE role = 'user') AS users, (SELECT count(*) FROM exchanges) AS ex",
    );
    expect(n!.users).toBe(n!.ex);
  });

  it('sub-agent: the child session nests under the task call; totals with and without sub-agents', async () => {
    const d = withSubagent(new DataDir().project());
    store = await d.ingest();
    const ex = await rows(
      store,
      'SELECT exchange_id, parent_exchange_id, parent_part_id, nesting_depth, input_tokens, subagent_input_tokens, subagent_session_count, subagent_cost_usd FROM exchanges ORDER BY started_at',
    );
    const taskPart = (await rows(store, "SELECT part_id FROM tool_calls WHERE tool_name = 'task'"))[0]!
      .part_id;
    expect(ex).toEqual([
      {
        exchange_id: 'msg_pu',
        parent_exchange_id: null,
        parent_part_id: null,
        nesting_depth: 0,
        input_tokens: 10,
        subagent_input_tokens: 5,
        subagent_session_count: 1,
        subagent_cost_usd: 0.5,
      },
      {
        exchange_id: 'msg_cu',
        parent_exchange_id: 'msg_pu',
        parent_part_id: taskPart,
        nesting_depth: 1,
        input_tokens: 5,
        subagent_input_tokens: 0,
        subagent_session_count: 0,
        subagent_cost_usd: 0,
      },
    ]);
    const t = await rows(
      store,
      "SELECT span_id, parent_span_id, kind, session_id, depth FROM exchange_traces WHERE exchange_id = 'msg_pu' ORDER BY span_index",
    );
    const sub = t.find((x) => x.kind === 'subagent')!;
    expect(sub.parent_span_id).toBe(taskPart);
    expect(sub.session_id).toBe('ses_c');
    const childLlm = t.find((x) => x.kind === 'llm_call' && x.session_id === 'ses_c')!;
    expect(childLlm.parent_span_id).toBe(sub.span_id);
    expect(childLlm.depth).toBe(1);
    expect(t.find((x) => x.kind === 'tool' && x.session_id === 'ses_c')!.parent_span_id).toBe(
      childLlm.span_id,
    );
    const s = await rows(
      store,
      'SELECT session_id, root_session_id, input_tokens, subagent_input_tokens, total_cost_usd FROM session_resource_metrics ORDER BY session_id',
    );
    expect(s).toEqual([
      {
        session_id: 'ses_c',
        root_session_id: 'ses_p',
        input_tokens: 5,
        subagent_input_tokens: 0,
        total_cost_usd: 0.5,
      },
      {
        session_id: 'ses_p',
        root_session_id: 'ses_p',
        input_tokens: 10,
        subagent_input_tokens: 5,
        total_cost_usd: 1.5,
      },
    ]);
    // the sub-agent span: child session clamped inside the task call
    const st = await rows(
      store,
      "SELECT session_id, count(*) AS n FROM session_traces WHERE session_id = 'ses_p' GROUP BY 1",
    );
    expect(st[0]!.n).toBe(t.length + 1);
  });

  it('compaction: compaction exchange with its span and row; synthetic continue message', async () => {
    const d = new DataDir().project().session('ses_a');
    d.user('ses_a', 'msg_u1', T0);
    d.assistant('ses_a', 'msg_a1', 'msg_u1', { created: T0 + 10, tokens: { input: 190_000 } }, [
      stepStart(),
      stepFinish({ input: 190_000 }),
    ]);
    d.user('ses_a', 'msg_u2', T0 + 5000, [{ type: 'compaction', auto: true, overflow: true }]);
    d.assistant(
      'ses_a',
      'msg_a2',
      'msg_u2',
      {
        created: T0 + 5010,
        completed: T0 + 8000,
        agent: 'compaction',
        summary: true,
        tokens: { input: 900, output: 40 },
        cost: 0.0033,
      },
      [stepStart(), text(T0 + 5100, T0 + 7900, 'summary'), stepFinish({ input: 900, output: 40 }, 0.0033)],
    );
    d.user('ses_a', 'msg_u3', T0 + 8100, [
      { type: 'text', text: 'Continue if you have next steps', synthetic: true },
    ]);
    store = await d.ingest();
    const ex = await rows(store, 'SELECT exchange_id, kind FROM exchanges ORDER BY exchange_index');
    expect(ex.map((e) => e.kind)).toEqual(['prompt', 'compaction', 'synthetic']);
    const [c] = await rows(store, 'SELECT * FROM compactions');
    expect([
      c!.exchange_id,
      c!.auto,
      c!.overflow,
      c!.summary_message_id,
      c!.context_tokens_before,
      c!.output_tokens,
    ]).toEqual(['msg_u2', true, true, 'msg_a2', 190_000, 40]);
    const spans = await rows(
      store,
      "SELECT span_id, parent_span_id, kind FROM exchange_traces WHERE exchange_id = 'msg_u2' ORDER BY span_index",
    );
    const comp = spans.find((s) => s.kind === 'compaction')!;
    expect(comp.parent_span_id).toBe('msg_u2');
    expect(spans.find((s) => s.kind === 'llm_call')!.parent_span_id).toBe(comp.span_id);
    const tb = await rows(store, "SELECT synthetic FROM text_blocks WHERE message_id = 'msg_u3'");
    expect(tb).toEqual([{ synthetic: true }]);
  });

  it('retry: retry part → retries row, retry span under its LLM call, errors view', async () => {
    const d = new DataDir().project().session('ses_a');
    d.user('ses_a', 'msg_u1', T0);
    d.assistant('ses_a', 'msg_a1', 'msg_u1', { created: T0 + 10, completed: T0 + 9000 }, [
      stepStart(),
      {
        type: 'retry',
        attempt: 1,
        time: { created: T0 + 2000 },
        error: {
          name: 'APIError',
          data: { message: 'Too Many Requests', statusCode: 429, isRetryable: true },
        },
      },
      text(T0 + 3000, T0 + 8000),
      stepFinish({ input: 1 }),
    ]);
    store = await d.ingest();
    const [r] = await rows(store, 'SELECT * FROM retries');
    expect([r!.attempt, r!.status_code, r!.error_category, r!.is_retryable, r!.exchange_id]).toEqual([
      1,
      429,
      'rate_limit',
      true,
      'msg_u1',
    ]);
    const spans = await rows(
      store,
      'SELECT span_id, parent_span_id, kind, started_at FROM exchange_traces ORDER BY span_index',
    );
    const retry = spans.find((s) => s.kind === 'retry')!;
    expect(retry.parent_span_id).toBe(spans.find((s) => s.kind === 'llm_call')!.span_id);
    expect(retry.started_at).toBe(new Date(T0 + 2000).toISOString());
    expect(await rows(store, 'SELECT source, error_category FROM errors')).toEqual([
      { source: 'retry', error_category: 'rate_limit' },
    ]);
    const [e] = await rows(store, 'SELECT error_count, status FROM exchanges');
    expect(e).toEqual({ error_count: 1, status: 'complete' });
  });

  it('errors: message and tool errors get error_category (taxonomy SQL); exchange status error', async () => {
    const d = new DataDir().project().session('ses_a');
    d.user('ses_a', 'msg_u1', T0);
    d.assistant('ses_a', 'msg_a1', 'msg_u1', { created: T0 + 10 }, [
      stepStart(),
      tool('read', T0 + 100, T0 + 200, {
        error: 'Error: File not found: /w/x.ts',
        input: { filePath: '/w/x.ts' },
      }),
      stepFinish({ input: 1 }, 0, 'tool-calls'),
    ]);
    d.assistant('ses_a', 'msg_a2', 'msg_u1', {
      created: T0 + 2000,
      error: { name: 'APIError', data: { message: 'Overloaded', statusCode: 529, isRetryable: true } },
    });
    store = await d.ingest();
    expect(await rows(store, 'SELECT source, error_category FROM errors ORDER BY source')).toEqual([
      { source: 'message', error_category: 'overloaded' },
      { source: 'tool', error_category: 'file_not_found' },
    ]);
    expect(await rows(store, "SELECT error_category FROM tool_call_facts WHERE tool_name = 'read'")).toEqual([
      { error_category: 'file_not_found' },
    ]);
    expect(
      await rows(store, 'SELECT status, error_category, error_count, tool_error_count FROM exchanges'),
    ).toEqual([{ status: 'error', error_category: 'overloaded', error_count: 2, tool_error_count: 1 }]);
  });

  it('revert: exchanges at or after revert.messageID are flagged, earlier ones are not, nothing is dropped', async () => {
    const d = new DataDir().project().session('ses_a', { revert: 'msg_u2' });
    d.user('ses_a', 'msg_u1', T0);
    d.assistant('ses_a', 'msg_a1', 'msg_u1', { created: T0 + 10 });
    d.user('ses_a', 'msg_u2', T0 + 1000);
    d.assistant('ses_a', 'msg_a2', 'msg_u2', { created: T0 + 1010 });
    store = await d.ingest();
    expect(await rows(store, 'SELECT exchange_id, reverted FROM exchanges ORDER BY exchange_index')).toEqual([
      { exchange_id: 'msg_u1', reverted: false },
      { exchange_id: 'msg_u2', reverted: true },
    ]);
    expect(await rows(store, 'SELECT reverted_message_count FROM session_resource_metrics')).toEqual([
      { reverted_message_count: 2 },
    ]);
  });

  it('a message without time.completed: in_progress, running tool ends with its parent', async () => {
    const d = new DataDir().project().session('ses_a');
    d.user('ses_a', 'msg_u1', T0);
    d.assistant('ses_a', 'msg_a1', 'msg_u1', { created: T0 + 10, completed: null }, [
      stepStart(),
      text(T0 + 100, T0 + 600),
      tool('bash', T0 + 700, null),
    ]);
    store = await d.ingest();
    const [e] = await rows(store, 'SELECT status, ended_at FROM exchanges');
    expect(e!.status).toBe('in_progress');
    const spans = await rows(
      store,
      'SELECT kind, started_at, ended_at, clamped FROM exchange_traces ORDER BY span_index',
    );
    const llm = spans.find((s) => s.kind === 'llm_call')!;
    const t = spans.find((s) => s.kind === 'tool')!;
    expect(llm.ended_at).toBe(new Date(T0 + 700).toISOString());
    expect([t.started_at, t.ended_at, t.clamped]).toEqual([
      new Date(T0 + 700).toISOString(),
      llm.ended_at,
      false,
    ]);
    const [st] = await rows(store, 'SELECT completed, token_source FROM steps');
    expect(st).toEqual({ completed: false, token_source: 'message' }); // no step-finish: the message's own tokens
  });

  it('orphans: a part without its message stays out of traces; an answer to a missing user message gets an orphan exchange', async () => {
    const d = new DataDir().project().session('ses_a');
    d.user('ses_a', 'msg_u1', T0);
    d.assistant('ses_a', 'msg_a1', 'msg_u1', { created: T0 + 10 }, [stepStart(), stepFinish({ input: 3 })]);
    d.part('ses_a', 'msg_gone', text(T0 + 5, T0 + 6, 'orphan'));
    d.assistant('ses_a', 'msg_a9', 'msg_missing', { created: T0 + 50_000 }, [
      stepStart(),
      stepFinish({ input: 4 }),
    ]);
    store = await d.ingest();
    expect(
      await rows(
        store,
        'SELECT exchange_id, kind, user_message_id, input_tokens FROM exchanges ORDER BY started_at',
      ),
    ).toEqual([
      { exchange_id: 'msg_u1', kind: 'prompt', user_message_id: 'msg_u1', input_tokens: 3 },
      { exchange_id: 'msg_missing', kind: 'orphan', user_message_id: null, input_tokens: 4 },
    ]);
    expect(
      await rows(store, "SELECT count(*) AS n FROM exchange_traces WHERE message_id = 'msg_gone'"),
    ).toEqual([{ n: 0 }]);
    expect(await rows(store, "SELECT exchange_id FROM text_blocks WHERE message_id = 'msg_gone'")).toEqual([
      { exchange_id: null },
    ]);
  });

  it('clamps a child that starts before its parent and flags it', async () => {
    const d = new DataDir().project().session('ses_a');
    d.user('ses_a', 'msg_u1', T0);
    d.assistant('ses_a', 'msg_a1', 'msg_u1', { created: T0 + 1000, completed: T0 + 5000 }, [
      stepStart(),
      tool('bash', T0 + 500, T0 + 2000), // the tool says it started before its message
      stepFinish({ input: 1 }),
    ]);
    store = await d.ingest();
    const spans = await rows(
      store,
      'SELECT kind, started_at, clamped, attributes FROM exchange_traces ORDER BY span_index',
    );
    const llm = spans.find((s) => s.kind === 'llm_call')!;
    expect(llm.started_at).toBe(new Date(T0 + 500).toISOString()); // the step starts with its first part
    const t = spans.find((s) => s.kind === 'tool')!;
    expect(t.clamped).toBe(false);
    // now a tool beyond the message end inside a completed step is clamped to the llm_call
    const d2 = new DataDir().project().session('ses_b');
    d2.user('ses_b', 'msg_u1', T0 + 2000);
    d2.assistant('ses_b', 'msg_a1', 'msg_u1', { created: T0 + 1000, completed: T0 + 5000 }, [
      stepStart(),
      tool('bash', T0 + 1500, T0 + 2500),
      stepFinish({ input: 1 }),
    ]);
    store.close();
    store = await d2.ingest();
    const s2 = await rows(
      store,
      'SELECT kind, started_at, clamped, attributes FROM exchange_traces ORDER BY span_index',
    );
    const llm2 = s2.find((s) => s.kind === 'llm_call')!;
    expect(llm2.clamped).toBe(true); // the user message is newer than its answer
    expect(llm2.started_at).toBe(new Date(T0 + 2000).toISOString());
    expect((llm2.attributes as Record<string, unknown>).clamped).toBe(true);
  });
});
