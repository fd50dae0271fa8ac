/**
 * Golden tree of fixture exchanges, sent by the real OTLP exporters (JSON and protobuf) to the
 * in-test receiver: parents, names, kinds, times, attributes, token arithmetic, sub-agent nesting,
 * retry and compaction events, errors, and IDs that do not change between exports or protocols.
 */
import { ExportResultCode } from '@opentelemetry/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spanIdFor, spanKey, traceIdFor } from '../src/domain/trace-ids.ts';
import { exportTraces } from '../src/otel/export.ts';
import type { SpanData } from '../src/otel/mapping.ts';
import type { Store } from '../src/store/db.ts';
import { buildGoldenFixture, Fixture, openTestStore, T0 } from './otel-fixtures.ts';
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from './support/otlp-receiver.ts';

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
      await buildGoldenFixture(store);
      rx = await startOtlpReceiver();
      const r = await exportTraces(store.conn, {
        endpoint: rx.url,
        protocol,
        now: NOW,
        serviceName: 'oc-test',
      });
      expect(r.ok).toBe(true);
      // what it announced is what it sent: retries and compactions are events, not spans
      expect([r.pendingSpans, r.backlogSpans]).toEqual([r.spans, 0]);
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
      // not a span of its own
      expect(spans.filter((s) => s.attributes['opencode.part.id'] === 'prt_a1_5r')).toEqual([]);
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

    it('sub-agent: invoke_agent under the task span, its own usage (opencode.subagent.*) and conversation', () => {
      const sub = spans.find((s) => s.name === 'invoke_agent explore')!;
      expect(sub.attributes).toMatchObject({
        'gen_ai.operation.name': 'invoke_agent',
        'gen_ai.agent.name': 'explore',
        'gen_ai.conversation.id': 'ses_B',
        'opencode.parent_session.id': 'ses_A',
        'opencode.subagent.usage.input_tokens': 1,
        'opencode.subagent.usage.output_tokens': 2,
        'opencode.subagent.usage.cache_read.input_tokens': 0,
        'opencode.subagent.usage.cache_creation.input_tokens': 0,
        'opencode.subagent.usage.reasoning.output_tokens': 0,
        'opencode.subagent.cost_usd': 0.001,
      });
      expect(Object.keys(sub.attributes).filter((k) => k.startsWith('gen_ai.usage.'))).toEqual([]);
      expect(sub.attributes['opencode.cost_usd']).toBeUndefined();
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
        'opencode.exchange.usage.input_tokens': 130 + 137 + 59,
        'opencode.exchange.usage.output_tokens': 8 + 50 + 8,
        'opencode.exchange.usage.cache_read.input_tokens': 280,
        'opencode.exchange.usage.cache_creation.input_tokens': 25,
        'opencode.exchange.usage.reasoning.output_tokens': 5,
        'opencode.llm_call.count': 3,
        'opencode.tool_call.count': 2,
        'opencode.tool_error.count': 0,
        'opencode.subagent.count': 1,
        'opencode.subagent.cost_usd': 0.001,
        'opencode.subagent.usage.input_tokens': 1,
        'opencode.subagent.usage.output_tokens': 2,
        'error.type': 'rate_limit',
      });
      expect(root.attributes['opencode.exchange.cost_usd']).toBeCloseTo(0.035, 10);
      expect(Object.keys(root.attributes).filter((k) => k.startsWith('gen_ai.usage.'))).toEqual([]);
      expect(root.attributes['opencode.cost_usd']).toBeUndefined();
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

    it('sum these spans: gen_ai.usage.* and opencode.cost_usd summed over all spans are the true totals', () => {
      const sum = (key: string) =>
        spans.reduce(
          (acc, s) => acc + (typeof s.attributes[key] === 'number' ? Number(s.attributes[key]) : 0),
          0,
        );
      // the fixture's LLM calls, input + cache read + cache write each: E1's two steps (130, 137), its
      // step-less message (59), the sub-agent's call (1), E2's compaction call (1000)
      expect(sum('gen_ai.usage.input_tokens')).toBe(130 + 137 + 59 + 1 + 1000);
      expect(sum('gen_ai.usage.output_tokens')).toBe(8 + 50 + 8 + 2 + 200);
      expect(sum('gen_ai.usage.cache_read.input_tokens')).toBe(100 + 130 + 50);
      expect(sum('opencode.cost_usd')).toBeCloseTo(0.01 + 0.02 + 0.005 + 0.001 + 0.002, 10);
      // only inference (chat) spans carry them
      const carriers = spans.filter((s) => 'gen_ai.usage.input_tokens' in s.attributes);
      expect(new Set(carriers.map((s) => s.attributes['gen_ai.operation.name']))).toEqual(new Set(['chat']));
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
      await buildGoldenFixture(store);
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

describe('sub-agent name fallback', () => {
  it("a child session without assistant messages is named by the task's subagent_type", async () => {
    const store = await openTestStore();
    try {
      const f = new Fixture(store.conn);
      await f.session('ses_P');
      await f.session('ses_C', { parent: 'ses_P' });
      await f.user('msg_pu', 'ses_P', 0);
      await f.assistant('msg_pa', 'ses_P', 'msg_pu', 100, 5000, { finish: 'stop' });
      await f.tool('prt_task', 'msg_pa', 'ses_P', 'task', 200, 4000, {
        child: 'ses_C',
        input: { description: 'look around', subagent_type: 'general' },
      });
      await f.exchange('msg_pu', 'ses_P', 0, 5000);
      await f.span('msg_pu', 'msg_pu', null, 'exchange', 0, 5000, { session: 'ses_P', message: 'msg_pu' });
      await f.span('msg_pu', 'msg_pa', 'msg_pu', 'llm_call', 100, 5000, {
        session: 'ses_P',
        message: 'msg_pa',
      });
      await f.span('msg_pu', 'prt_task', 'msg_pa', 'tool', 200, 4000, {
        session: 'ses_P',
        message: 'msg_pa',
        part: 'prt_task',
      });
      await f.span('msg_pu', 'subagent:prt_task', 'prt_task', 'subagent', 300, 3900, { session: 'ses_C' });
      const sent: SpanData[] = [];
      const r = await exportTraces(store.conn, {
        instance: store.instance,
        now: NOW,
        exporter: {
          export: (spans, done) => {
            sent.push(...spans);
            done({ code: ExportResultCode.SUCCESS });
          },
          shutdown: async () => {},
        },
      });
      expect(r.ok).toBe(true);
      const sub = sent.find((s) => s.attributes['gen_ai.operation.name'] === 'invoke_agent');
      expect(sub?.name).toBe('invoke_agent general');
      expect(sub?.attributes['gen_ai.agent.name']).toBe('general');
    } finally {
      store.close();
    }
  });
});
