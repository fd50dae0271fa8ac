/**
 * Golden tree of fixture exchanges, sent by the real OTLP exporters (JSON and protobuf) to the
 * in-test receiver: parents, names, kinds, times, attributes, token arithmetic, sub-agent nesting,
 * retry and compaction events, errors, and IDs that do not change between exports or protocols.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportTraces } from '../src/otel/export.ts';
import { spanIdFor, spanKey, traceIdFor } from '../src/otel/ids.ts';
import type { Store } from '../src/store/db.ts';
import { Fixture, openTestStore, T0, ts } from './otel-fixtures.ts';
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from './support/otlp-receiver.ts';

async function buildFixture(store: Store): Promise<void> {
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

const NOW = new Date(T0 + 25_000);
const ms = (ns: string) => Number(BigInt(ns) / 1_000_000n) - T0;

/** Compact view: name → kind, parent name, times (ms from T0), attributes, events, status. */
function tree(spans: ReceivedSpan[]) {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  return Object.fromEntries(
    spans.map((s) => [
      s.name,
      {
        kind: s.kind,
        parent: s.parentSpanId ? byId.get(s.parentSpanId)?.name : null,
        start: ms(s.startNs),
        end: ms(s.endNs),
        status: s.status.code,
        events: s.events.map((e) => ({ name: e.name, at: ms(e.timeNs), ...e.attributes })),
        attrs: s.attributes,
      },
    ]),
  );
}

const OTLP_INTERNAL = 1;
const OTLP_CLIENT = 3;
const STATUS_ERROR = 2;

for (const protocol of ['http/json', 'http/protobuf'] as const) {
  describe(`golden trace tree (${protocol})`, () => {
    let store: Store;
    let rx: OtlpReceiver;
    let spans: ReceivedSpan[];
    beforeAll(async () => {
      store = await openTestStore();
      await buildFixture(store);
      rx = await startOtlpReceiver();
      const r = await exportTraces(store.conn, {
        endpoint: rx.url,
        protocol,
        now: NOW,
        serviceName: 'oc-test',
      });
      expect(r.ok).toBe(true);
      spans = rx.spans;
    });
    afterAll(async () => {
      await rx.close();
      store.close();
    });

    it('exports the two complete exchanges, with the sub-agent inside E1, as 11 spans in 2 traces', () => {
      expect(spans.every((s) => s.encoding === (protocol === 'http/json' ? 'json' : 'protobuf'))).toBe(true);
      expect(spans).toHaveLength(11);
      expect(new Set(spans.map((s) => s.traceId)).size).toBe(2);
      expect(new Set(spans.map((s) => s.spanId)).size).toBe(11);
      expect(spans.some((s) => s.attributes['opencode.message.id'] === 'msg_u3')).toBe(false);
      expect(spans[0]?.service).toBe('oc-test');
      expect(spans[0]?.scope).toBe('opencode-otel-bridge');
      expect(Object.keys(spans[0]?.resource ?? {})).toEqual(
        expect.arrayContaining([
          'service.name',
          'host.name',
          'telemetry.distro.name',
          'telemetry.distro.version',
        ]),
      );
    });

    it('tree: names, kinds, parents, times', () => {
      const t = tree(spans);
      const shape = Object.fromEntries(
        Object.entries(t).map(([name, s]) => [name, [s.kind, s.parent, s.start, s.end]]),
      );
      expect(shape).toEqual({
        'exchange build': [OTLP_INTERNAL, null, 0, 12000],
        'chat claude-sonnet-4-5': expect.anything(), // three of them; checked below by id
        'execute_tool read': [OTLP_INTERNAL, 'chat claude-sonnet-4-5', 2000, 2500],
        'execute_tool task': [OTLP_INTERNAL, 'chat claude-sonnet-4-5', 10500, 11800],
        'invoke_agent explore': [OTLP_INTERNAL, 'execute_tool task', 10600, 11700],
        'chat gpt-5': [OTLP_CLIENT, 'invoke_agent explore', 10700, 11700],
        'execute_tool bash': [OTLP_INTERNAL, 'chat gpt-5', 10800, 10900],
        'exchange compaction': [OTLP_INTERNAL, null, 20000, 21000],
      });
      const chats = spans
        .filter((s) => s.name === 'chat claude-sonnet-4-5')
        .map((s) => [
          s.kind,
          spans.find((p) => p.spanId === s.parentSpanId)?.name,
          ms(s.startNs),
          ms(s.endNs),
        ])
        .sort((a, b) => Number(a[2]) - Number(b[2]));
      expect(chats).toEqual([
        [OTLP_CLIENT, 'exchange build', 1000, 4000],
        [OTLP_CLIENT, 'exchange build', 4000, 9000],
        [OTLP_CLIENT, 'exchange build', 10000, 12000],
        [OTLP_CLIENT, 'exchange compaction', 20100, 21000], // re-parented: compaction is an event
      ]);
    });

    const chat = (part: string) =>
      spans.find(
        (s) =>
          s.attributes['opencode.part.id'] === part ||
          (s.attributes['opencode.message.id'] === part && s.kind === OTLP_CLIENT),
      )!;

    it('LLM call per step: conventions, cache arithmetic (input + cache read + cache write), reasoning in output', () => {
      expect(chat('prt_a1_1s').attributes).toEqual({
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'anthropic',
        'gen_ai.request.model': 'claude-sonnet-4-5',
        'gen_ai.conversation.id': 'ses_A',
        'gen_ai.response.finish_reasons': ['tool-calls'],
        'gen_ai.usage.input_tokens': 130,
        'gen_ai.usage.output_tokens': 8,
        'gen_ai.usage.cache_read.input_tokens': 100,
        'gen_ai.usage.cache_creation.input_tokens': 20,
        'gen_ai.usage.reasoning.output_tokens': 3,
        'opencode.cost_usd': 0.01,
        'opencode.provider.id': 'anthropic',
        'opencode.agent': 'build',
        'opencode.session.id': 'ses_A',
        'opencode.message.id': 'msg_a1',
        'opencode.part.id': 'prt_a1_1s',
      });
      const step2 = chat('prt_a1_4s');
      expect(step2.attributes['gen_ai.usage.input_tokens']).toBe(137);
      expect(step2.attributes['gen_ai.usage.output_tokens']).toBe(50);
      expect(step2.attributes['gen_ai.response.finish_reasons']).toEqual(['stop']);
      expect(step2.attributes['opencode.cost_usd']).toBe(0.02);
      expect(step2.status.code).toBe(0);
    });

    it('a retry is an event on its LLM call', () => {
      expect(tree(spans)).toBeDefined();
      const step2 = chat('prt_a1_4s');
      expect(step2.events).toEqual([
        {
          name: 'opencode.retry',
          timeNs: String(BigInt(T0 + 5000) * 1_000_000n),
          attributes: {
            'opencode.part.id': 'prt_a1_5r',
            'opencode.retry.attempt': 1,
            'error.type': 'overloaded',
            'opencode.error.name': 'APIError',
          },
        },
      ]);
    });

    it('an LLM call without steps uses the message; its error sets error.type and status ERROR', () => {
      const a2 = spans.find(
        (s) => s.attributes['opencode.message.id'] === 'msg_a2' && s.kind === OTLP_CLIENT,
      )!;
      expect(a2.attributes['gen_ai.usage.input_tokens']).toBe(59);
      expect(a2.attributes['gen_ai.usage.output_tokens']).toBe(8);
      expect(a2.attributes['gen_ai.usage.cache_creation.input_tokens']).toBe(5);
      expect(a2.attributes['error.type']).toBe('rate_limit');
      expect(a2.attributes['opencode.error.name']).toBe('APIError');
      expect(a2.status).toEqual({ code: STATUS_ERROR, message: 'APIError' });
    });

    it('tools: execute_tool, call id, type; a failed tool is ERROR with its error category', () => {
      const read = spans.find((s) => s.name === 'execute_tool read')!;
      expect(read.attributes).toMatchObject({
        'gen_ai.operation.name': 'execute_tool',
        'gen_ai.tool.name': 'read',
        'gen_ai.tool.call.id': 'call_prt_a1_2t',
        'gen_ai.tool.type': 'function',
        'opencode.tool.status': 'completed',
      });
      expect(read.status.code).toBe(0);
      const bash = spans.find((s) => s.name === 'execute_tool bash')!;
      expect(bash.status).toEqual({ code: STATUS_ERROR, message: 'command_failed' });
      expect(bash.attributes['error.type']).toBe('command_failed');
    });

    it('sub-agent: invoke_agent under the task span, its own usage and conversation', () => {
      const sub = spans.find((s) => s.name === 'invoke_agent explore')!;
      expect(sub.attributes).toMatchObject({
        'gen_ai.operation.name': 'invoke_agent',
        'gen_ai.agent.name': 'explore',
        'gen_ai.conversation.id': 'ses_B',
        'opencode.parent_session.id': 'ses_A',
        'gen_ai.usage.input_tokens': 1,
        'gen_ai.usage.output_tokens': 2,
        'opencode.cost_usd': 0.001,
      });
      const gpt = spans.find((s) => s.name === 'chat gpt-5')!;
      expect(gpt.attributes['gen_ai.provider.name']).toBe('openai');
      expect(gpt.attributes['gen_ai.conversation.id']).toBe('ses_B');
    });

    it('root: conversation, project, agent, own totals, sub-agent totals, error', () => {
      const root = spans.find((s) => s.name === 'exchange build')!;
      expect(root.parentSpanId).toBeUndefined();
      expect(root.attributes).toMatchObject({
        'gen_ai.conversation.id': 'ses_A',
        'gen_ai.agent.name': 'build',
        'opencode.exchange.id': 'msg_u1',
        'opencode.project.id': 'proj1',
        'opencode.project.path': '/w/proj1',
        'opencode.exchange.status': 'error',
        'gen_ai.usage.input_tokens': 130 + 137 + 59,
        'gen_ai.usage.output_tokens': 8 + 50 + 8,
        'gen_ai.usage.cache_read.input_tokens': 280,
        'gen_ai.usage.cache_creation.input_tokens': 25,
        'gen_ai.usage.reasoning.output_tokens': 5,
        'opencode.llm_call.count': 3,
        'opencode.tool_call.count': 2,
        'opencode.tool_error.count': 0,
        'opencode.subagent.count': 1,
        'opencode.subagent.cost_usd': 0.001,
        'opencode.subagent.usage.input_tokens': 1,
        'opencode.subagent.usage.output_tokens': 2,
        'error.type': 'rate_limit',
      });
      expect(root.attributes['opencode.cost_usd']).toBeCloseTo(0.035, 10);
      expect(root.status.code).toBe(STATUS_ERROR);
      const comp = spans.find((s) => s.name === 'exchange compaction')!;
      expect(comp.events).toEqual([
        {
          name: 'opencode.compaction',
          timeNs: String(BigInt(T0 + 20000) * 1_000_000n),
          attributes: {
            'opencode.part.id': 'prt_u2_c',
            'opencode.compaction.auto': true,
            'opencode.compaction.overflow': false,
          },
        },
      ]);
    });

    it('IDs are the documented hashes of OpenCode IDs', () => {
      const root = spans.find((s) => s.name === 'exchange build')!;
      expect(root.traceId).toBe(traceIdFor('msg_u1'));
      expect(root.spanId).toBe(spanIdFor('msg_u1', 'exchange'));
      const read = spans.find((s) => s.name === 'execute_tool read')!;
      expect(read.spanId).toBe(spanIdFor('msg_u1', spanKey({ kind: 'tool', partId: 'prt_a1_2t' })));
      const sub = spans.find((s) => s.name === 'invoke_agent explore')!;
      expect(sub.spanId).toBe(
        spanIdFor(
          'msg_u1',
          spanKey({ kind: 'subagent', sessionId: 'ses_B', spanId: 'subagent:prt_a2_task' }),
        ),
      );
    });

    it('content is absent by default', () => {
      const text = JSON.stringify(spans);
      expect(text).not.toContain('SECRET FILE CONTENT');
      expect(text).not.toContain('Fix the bug');
      expect(text).not.toContain('parser.ts');
      expect(text).not.toContain('command not found');
      for (const s of spans)
        for (const k of [
          'gen_ai.input.messages',
          'gen_ai.output.messages',
          'gen_ai.tool.call.arguments',
          'gen_ai.tool.call.result',
        ])
          expect(s.attributes[k]).toBeUndefined();
    });

    it('a forced re-export sends identical IDs; a normal one sends nothing', async () => {
      const before = new Set(spans.map((s) => `${s.traceId}/${s.spanId}`));
      const again = await exportTraces(store.conn, { endpoint: rx.url, protocol, now: NOW });
      expect(again.spans).toBe(0);
      expect(rx.spans).toHaveLength(11);
      const forced = await exportTraces(store.conn, { endpoint: rx.url, protocol, now: NOW, force: true });
      expect(forced.spans).toBe(11);
      const second = rx.spans.slice(11).map((s) => `${s.traceId}/${s.spanId}`);
      expect(new Set(second)).toEqual(before);
    });
  });
}

describe('content capture (opt-in)', () => {
  it('exports prompt, output, tool arguments and result, truncated', async () => {
    const store = await openTestStore();
    const rx = await startOtlpReceiver();
    try {
      await buildFixture(store);
      const r = await exportTraces(store.conn, {
        endpoint: rx.url,
        protocol: 'http/json',
        now: NOW,
        captureContent: true,
        contentMaxChars: 10,
      });
      expect(r.ok).toBe(true);
      const root = rx.spans.find((s) => s.name === 'exchange build')!;
      expect(JSON.parse(String(root.attributes['gen_ai.input.messages']))).toEqual([
        { role: 'user', parts: [{ type: 'text', content: 'Fix the bu…[truncated 14 chars]' }] },
      ]);
      expect(root.attributes['opencode.content.truncated']).toBe(true);
      const step2 = rx.spans.find((s) => s.attributes['opencode.part.id'] === 'prt_a1_4s')!;
      expect(JSON.parse(String(step2.attributes['gen_ai.output.messages']))).toEqual([
        { role: 'assistant', parts: [{ type: 'text', content: 'Done.' }], finish_reason: 'stop' },
      ]);
      const step1 = rx.spans.find((s) => s.attributes['opencode.part.id'] === 'prt_a1_1s')!;
      expect(step1.attributes['gen_ai.output.messages']).toBeUndefined();
      const read = rx.spans.find((s) => s.name === 'execute_tool read')!;
      expect(read.attributes['gen_ai.tool.call.arguments']).toBe('{"filePath…[truncated 23 chars]');
      expect(read.attributes['gen_ai.tool.call.result']).toBe('SECRET FIL…[truncated 9 chars]');
    } finally {
      await rx.close();
      store.close();
    }
  });
});
