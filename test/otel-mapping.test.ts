/**
 * Every rule of the docs/otel.md mapping table, one row each, on hand-written span rows (no DuckDB):
 * the rows of one exchange go through `mapExchange`, and one output span (by its span ID) is compared
 * with what the rule says. A rule that changes makes its row fail.
 */
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { buildContentIndex, type MapOptions, mapExchange, type SpanData } from '../src/otel/mapping.ts';
import { PACKED_KEYS, type TraceRow } from '../src/otel/source.ts';

const TRACE = 'abababababababababababababababab';
// span IDs (16 hex digits) of the hand-written rows
const ROOT = '1000000000000001';
const LLM1 = '2000000000000001';
const LLM2 = '2000000000000002';
const TOOL = '30000000000000ab';
const TOOL2 = '3000000000000002';
const SUB = '4000000000000001';
const SUBLLM = '5000000000000001';
const RETRY = '6000000000000001';
const COMP = '7000000000000001';
const OTHER = '8000000000000001';
const S = 1_700_000_000_000_000; // µs

function row(kind: string, spanId: string, parentSpanId: string | null, o: Partial<TraceRow> = {}): TraceRow {
  const r = Object.fromEntries(PACKED_KEYS.map((k) => [k, null])) as unknown as TraceRow;
  return Object.assign(r, {
    exchangeId: 'msg_u',
    traceId: TRACE,
    spanId,
    parentSpanId,
    kind,
    name: kind,
    startUs: S,
    endUs: S + 10_000_000,
    sessionId: 'ses_A',
    ...o,
  });
}
const root = (o: Partial<TraceRow> = {}) => row('exchange', ROOT, null, { messageId: 'msg_u', ...o });
/** An LLM call with a finished step (tokens of its step-finish part). */
const step = (spanId: string, o: Partial<TraceRow> = {}) =>
  row('llm_call', spanId, ROOT, {
    messageId: 'msg_a',
    partId: `prt_${spanId}`,
    partType: 'step-start',
    mProviderId: 'anthropic',
    mModelId: 'claude-sonnet-4-5',
    mAgent: 'build',
    sVersion: '1.18.33',
    stepFound: true,
    stepReason: 'tool-calls',
    stepCost: 0.01,
    stepIn: 10,
    stepOut: 5,
    stepReasoning: 3,
    stepCacheRead: 100,
    stepCacheWrite: 20,
    ...o,
  });
const tool = (spanId: string, o: Partial<TraceRow> = {}) =>
  row('tool', spanId, LLM1, {
    messageId: 'msg_a',
    partId: `prt_${spanId}`,
    toolName: 'read',
    callId: 'call_1',
    toolStatus: 'completed',
    ...o,
  });

interface Case {
  rule: string;
  rows: TraceRow[];
  opts?: MapOptions;
  /** the output span checked (its span ID) */
  span: string;
  /** a partial view: name, kind, parent, startUs, endUs, status, attributes, events */
  expect: Record<string, unknown>;
  /** attributes the span must not have */
  absent?: string[];
  /** how many spans the exchange maps to */
  spans?: number;
}

const textContent = (rows: Parameters<typeof buildContentIndex>[0]) => ({ content: buildContentIndex(rows) });

const CASES: Case[] = [
  // --- exchange (root) ---------------------------------------------------------------------------
  {
    rule: 'root: named `exchange {agent}`, INTERNAL, no parent',
    rows: [root({ exAgent: 'build', endUs: S + 1 })],
    span: ROOT,
    expect: { name: 'exchange build', kind: SpanKind.INTERNAL, parent: null },
  },
  {
    rule: 'root: named `exchange` without an agent',
    rows: [root()],
    span: ROOT,
    expect: { name: 'exchange' },
  },
  {
    rule: 'root: agent from the exchange, else the message, else the session',
    rows: [root({ mAgent: 'plan', sAgent: 'x' })],
    span: ROOT,
    expect: { name: 'exchange plan', attributes: { 'gen_ai.agent.name': 'plan', 'opencode.agent': 'plan' } },
  },
  {
    rule: 'root: identity, project, version, provider, model, status',
    rows: [
      root({
        exAgent: 'build',
        exStatus: 'complete',
        exProviderId: 'amazon-bedrock',
        exModelId: 'claude-x',
        sProjectId: 'proj1',
        sDirectory: '/w/p',
        sVersion: '1.18.33',
      }),
    ],
    span: ROOT,
    expect: {
      attributes: {
        'gen_ai.conversation.id': 'ses_A',
        'gen_ai.agent.name': 'build',
        'opencode.agent': 'build',
        'opencode.exchange.id': 'msg_u',
        'opencode.message.id': 'msg_u',
        'opencode.session.id': 'ses_A',
        'opencode.project.id': 'proj1',
        'opencode.project.path': '/w/p',
        'opencode.version': '1.18.33',
        'gen_ai.provider.name': 'aws.bedrock',
        'gen_ai.request.model': 'claude-x',
        'opencode.exchange.status': 'complete',
      },
    },
  },
  {
    rule: "root: project path from a message's root path when the session has no directory",
    rows: [root(), step(LLM1, { mRootPath: '/w/from-msg' })],
    span: ROOT,
    expect: { attributes: { 'opencode.project.path': '/w/from-msg' } },
  },
  {
    rule: "root: totals of its own session's LLM and tool calls under opencode.exchange.*, never gen_ai.usage.*",
    rows: [
      root(),
      step(LLM1),
      step(LLM2, {
        stepIn: 1,
        stepOut: 1,
        stepReasoning: 0,
        stepCacheRead: 0,
        stepCacheWrite: 0,
        stepCost: 0.5,
      }),
      tool(TOOL),
      tool(TOOL2, { toolStatus: 'error', toolError: 'bash: x: command not found' }),
      row('subagent', SUB, TOOL, { sessionId: 'ses_B' }),
      step(SUBLLM, { sessionId: 'ses_B', parentSpanId: SUB }),
    ],
    span: ROOT,
    expect: {
      attributes: {
        'opencode.exchange.usage.input_tokens': 130 + 1,
        'opencode.exchange.usage.output_tokens': 8 + 1,
        'opencode.exchange.usage.cache_read.input_tokens': 100,
        'opencode.exchange.usage.cache_creation.input_tokens': 20,
        'opencode.exchange.usage.reasoning.output_tokens': 3,
        'opencode.exchange.cost_usd': 0.51,
        'opencode.llm_call.count': 2,
        'opencode.tool_call.count': 2,
        'opencode.tool_error.count': 1,
      },
    },
    absent: ['gen_ai.usage.input_tokens', 'gen_ai.usage.output_tokens', 'opencode.cost_usd'],
  },
  {
    rule: 'root: sub-agent totals (count, cost, input and output tokens)',
    rows: [
      root(),
      tool(TOOL, { toolName: 'task' }),
      row('subagent', SUB, TOOL, { sessionId: 'ses_B' }),
      step(SUBLLM, { sessionId: 'ses_B', parentSpanId: SUB }),
    ],
    span: ROOT,
    expect: {
      attributes: {
        'opencode.subagent.count': 1,
        'opencode.subagent.cost_usd': 0.01,
        'opencode.subagent.usage.input_tokens': 130,
        'opencode.subagent.usage.output_tokens': 8,
        'opencode.llm_call.count': 0,
      },
    },
  },
  {
    rule: 'root: no sub-agent attributes without sub-agents',
    rows: [root(), step(LLM1)],
    span: ROOT,
    expect: {},
    absent: ['opencode.subagent.count', 'opencode.subagent.cost_usd', 'opencode.subagent.usage.input_tokens'],
  },
  {
    rule: 'root: ERROR with the error.type of its first failed own LLM call',
    rows: [
      root(),
      step(LLM1, { mErrorName: 'APIError', mErrorStatus: 429, mErrorMessage: 'Rate limit exceeded' }),
    ],
    span: ROOT,
    expect: {
      status: { code: SpanStatusCode.ERROR, message: 'rate_limit' },
      attributes: { 'error.type': 'rate_limit' },
    },
  },
  {
    rule: 'root: an `error` exchange without a failed LLM call gets error.type `_OTHER`',
    rows: [root({ exStatus: 'error' }), step(LLM1)],
    span: ROOT,
    expect: {
      status: { code: SpanStatusCode.ERROR, message: 'error' },
      attributes: { 'error.type': '_OTHER' },
    },
  },
  {
    rule: "root: a sub-agent's failed LLM call does not make the root fail",
    rows: [
      root(),
      row('subagent', SUB, ROOT, { sessionId: 'ses_B' }),
      step(SUBLLM, { sessionId: 'ses_B', parentSpanId: SUB, messageId: 'msg_b', mErrorName: 'APIError' }),
    ],
    span: ROOT,
    expect: { status: { code: SpanStatusCode.UNSET } },
    absent: ['error.type'],
  },
  {
    rule: 'root: never marked incomplete (no end: ends at its start)',
    rows: [root({ endUs: null })],
    span: ROOT,
    expect: { startUs: S, endUs: S },
    absent: ['opencode.span.incomplete'],
  },
  // --- llm_call --------------------------------------------------------------------------------
  {
    rule: 'llm_call: `chat {model}`, CLIENT, under its parent',
    rows: [root(), step(LLM1)],
    span: LLM1,
    expect: { name: 'chat claude-sonnet-4-5', kind: SpanKind.CLIENT, parent: ROOT },
  },
  {
    rule: 'llm_call: `chat` without a model, and no gen_ai.request.model',
    rows: [root(), step(LLM1, { mModelId: null })],
    span: LLM1,
    expect: { name: 'chat', kind: SpanKind.CLIENT },
    absent: ['gen_ai.request.model'],
  },
  {
    rule: 'llm_call: operation, provider (spec name), provider ID, model, conversation, agent',
    rows: [root(), step(LLM1)],
    span: LLM1,
    expect: {
      attributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'anthropic',
        'opencode.provider.id': 'anthropic',
        'gen_ai.request.model': 'claude-sonnet-4-5',
        'gen_ai.conversation.id': 'ses_A',
        'opencode.agent': 'build',
      },
    },
  },
  {
    rule: 'llm_call: provider names: github-copilot → github_copilot, unknown IDs as they are (lower case)',
    rows: [root(), step(LLM1, { mProviderId: 'github-copilot' }), step(LLM2, { mProviderId: 'MyProxy' })],
    span: LLM1,
    expect: { attributes: { 'gen_ai.provider.name': 'github_copilot' } },
  },
  {
    rule: 'llm_call: provider names: an unknown provider ID as it is, lower case',
    rows: [root(), step(LLM1, { mProviderId: 'MyProxy' })],
    span: LLM1,
    expect: { attributes: { 'gen_ai.provider.name': 'myproxy', 'opencode.provider.id': 'MyProxy' } },
  },
  {
    rule: "llm_call: usage and cost of the step's step-finish: input + cache read + cache write, output + reasoning",
    rows: [root(), step(LLM1)],
    span: LLM1,
    expect: {
      attributes: {
        'gen_ai.usage.input_tokens': 130,
        'gen_ai.usage.output_tokens': 8,
        'gen_ai.usage.cache_read.input_tokens': 100,
        'gen_ai.usage.cache_creation.input_tokens': 20,
        'gen_ai.usage.reasoning.output_tokens': 3,
        'opencode.cost_usd': 0.01,
        'gen_ai.response.finish_reasons': ['tool-calls'],
      },
    },
  },
  {
    rule: 'llm_call: OpenCode < 1.2 (sessions.version): output as recorded (it may include reasoning)',
    rows: [root(), step(LLM1, { sVersion: '1.1.65' })],
    span: LLM1,
    expect: { attributes: { 'gen_ai.usage.output_tokens': 5, 'gen_ai.usage.reasoning.output_tokens': 3 } },
  },
  {
    rule: "llm_call: a message without steps uses the message's tokens, cost and finish",
    rows: [
      root(),
      step(LLM1, {
        partType: null,
        partId: null,
        stepFound: null,
        mIn: 4,
        mOut: 6,
        mReasoning: 2,
        mCacheRead: 50,
        mCacheWrite: 5,
        mCost: 0.005,
        mFinish: 'stop',
      }),
    ],
    span: LLM1,
    expect: {
      attributes: {
        'gen_ai.usage.input_tokens': 59,
        'gen_ai.usage.output_tokens': 8,
        'opencode.cost_usd': 0.005,
        'gen_ai.response.finish_reasons': ['stop'],
      },
    },
  },
  {
    rule: 'llm_call: a step that never finished has no usage, cost or finish reason (not the message totals)',
    rows: [
      root(),
      step(LLM1, { stepFound: false, mIn: 999, mOut: 999, mCost: 9, mFinish: 'stop', endUs: null }),
    ],
    span: LLM1,
    expect: { attributes: { 'opencode.span.incomplete': true } },
    absent: [
      'gen_ai.usage.input_tokens',
      'gen_ai.usage.output_tokens',
      'opencode.cost_usd',
      'gen_ai.response.finish_reasons',
    ],
  },
  {
    rule: "llm_call: a message's error on its last LLM call: error.type, opencode.error.name, ERROR",
    rows: [
      root(),
      step(LLM1, { mErrorName: 'APIError', mErrorStatus: 529, mErrorMessage: 'Overloaded' }),
      step(LLM2, { startUs: S + 1, mErrorName: 'APIError', mErrorStatus: 529, mErrorMessage: 'Overloaded' }),
    ],
    span: LLM2,
    expect: {
      status: { code: SpanStatusCode.ERROR, message: 'APIError' },
      attributes: { 'error.type': 'overloaded', 'opencode.error.name': 'APIError' },
    },
  },
  {
    rule: 'llm_call: an earlier step of a failed message carries no error',
    rows: [
      root(),
      step(LLM1, { mErrorName: 'APIError', mErrorStatus: 529 }),
      step(LLM2, { startUs: S + 1, mErrorName: 'APIError', mErrorStatus: 529 }),
    ],
    span: LLM1,
    expect: { status: { code: SpanStatusCode.UNSET } },
    absent: ['error.type', 'opencode.error.name'],
  },
  // --- tool ------------------------------------------------------------------------------------
  {
    rule: 'tool: `execute_tool {tool}`, INTERNAL, operation, name, call ID, status',
    rows: [root(), step(LLM1), tool(TOOL)],
    span: TOOL,
    expect: {
      name: 'execute_tool read',
      kind: SpanKind.INTERNAL,
      parent: LLM1,
      status: { code: SpanStatusCode.UNSET },
      attributes: {
        'gen_ai.operation.name': 'execute_tool',
        'gen_ai.tool.name': 'read',
        'gen_ai.tool.call.id': 'call_1',
        'opencode.tool.status': 'completed',
      },
    },
  },
  {
    rule: "tool: OpenCode's built-in tools are `function`",
    rows: [root(), step(LLM1), tool(TOOL, { toolName: 'bash' })],
    span: TOOL,
    expect: { attributes: { 'gen_ai.tool.type': 'function' } },
  },
  {
    rule: 'tool: other tools (MCP, plugins) are `extension`',
    rows: [root(), step(LLM1), tool(TOOL, { toolName: 'github_create_issue' })],
    span: TOOL,
    expect: { attributes: { 'gen_ai.tool.type': 'extension' } },
  },
  {
    rule: 'tool: without a name: `execute_tool unknown`, `extension`',
    rows: [root(), step(LLM1), tool(TOOL, { toolName: null })],
    span: TOOL,
    expect: { name: 'execute_tool unknown', attributes: { 'gen_ai.tool.type': 'extension' } },
  },
  {
    rule: 'tool: failed: ERROR, error.type and status message = the error category',
    rows: [
      root(),
      step(LLM1),
      tool(TOOL, { toolStatus: 'error', toolError: 'bash: foo: command not found' }),
    ],
    span: TOOL,
    expect: {
      status: { code: SpanStatusCode.ERROR, message: 'command_failed' },
      attributes: { 'error.type': 'command_failed' },
    },
  },
  {
    rule: 'tool, content on: arguments and result, truncated, and the error text (cut to 512) as status message',
    rows: [root(), step(LLM1), tool(TOOL, { toolStatus: 'error', toolError: `E${'x'.repeat(600)}` })],
    opts: {
      contentMaxChars: 5,
      ...textContent([
        {
          partType: 'tool',
          partId: `prt_${TOOL}`,
          messageId: 'msg_a',
          startUs: null,
          text: null,
          toolInput: '{"a":1}',
          toolOutput: 'out',
        },
      ]),
    },
    span: TOOL,
    expect: {
      status: { code: SpanStatusCode.ERROR, message: `E${'x'.repeat(511)}…[truncated 89 chars]` },
      attributes: {
        'gen_ai.tool.call.arguments': '{"a":…[truncated 2 chars]',
        'gen_ai.tool.call.result': 'out',
        'opencode.content.truncated': true,
      },
    },
  },
  // --- subagent --------------------------------------------------------------------------------
  {
    rule: 'subagent: `invoke_agent {agent}`, INTERNAL, under the task span, child conversation, parent session',
    rows: [
      root(),
      step(LLM1),
      tool(TOOL, { toolName: 'task' }),
      row('subagent', SUB, TOOL, { sessionId: 'ses_B', subAgent: 'explore', sParentSessionId: 'ses_A' }),
    ],
    span: SUB,
    expect: {
      name: 'invoke_agent explore',
      kind: SpanKind.INTERNAL,
      parent: TOOL,
      attributes: {
        'gen_ai.operation.name': 'invoke_agent',
        'gen_ai.agent.name': 'explore',
        'gen_ai.conversation.id': 'ses_B',
        'opencode.parent_session.id': 'ses_A',
      },
    },
  },
  {
    rule: "subagent: agent from the child's session when the row has none; `invoke_agent` without either",
    rows: [root(), row('subagent', SUB, ROOT, { sessionId: 'ses_B' })],
    span: SUB,
    expect: { name: 'invoke_agent' },
    absent: ['gen_ai.agent.name'],
  },
  {
    rule: "subagent: the child session's totals under opencode.subagent.*, never gen_ai.usage.*",
    rows: [
      root(),
      row('subagent', SUB, ROOT, { sessionId: 'ses_B' }),
      step(SUBLLM, { sessionId: 'ses_B', parentSpanId: SUB }),
    ],
    span: SUB,
    expect: {
      attributes: {
        'opencode.subagent.usage.input_tokens': 130,
        'opencode.subagent.usage.output_tokens': 8,
        'opencode.subagent.usage.cache_read.input_tokens': 100,
        'opencode.subagent.usage.cache_creation.input_tokens': 20,
        'opencode.subagent.usage.reasoning.output_tokens': 3,
        'opencode.subagent.cost_usd': 0.01,
      },
    },
    absent: ['gen_ai.usage.input_tokens', 'opencode.cost_usd'],
  },
  // --- retry, compaction, anything else ----------------------------------------------------------
  {
    rule: 'retry: event `opencode.retry` on its parent span (attempt, error.type, error name, part), not a span',
    rows: [
      root(),
      step(LLM1),
      row('retry', RETRY, LLM1, {
        partId: 'prt_r',
        startUs: S + 5,
        retryAttempt: 2,
        retryErrorName: 'APIError',
        retryErrorStatus: 429,
        retryErrorMessage: 'Rate limit',
      }),
    ],
    span: LLM1,
    spans: 2,
    expect: {
      events: [
        {
          name: 'opencode.retry',
          timeUs: S + 5,
          attributes: {
            'opencode.part.id': 'prt_r',
            'opencode.retry.attempt': 2,
            'error.type': 'rate_limit',
            'opencode.error.name': 'APIError',
          },
        },
      ],
    },
  },
  {
    rule: "retry: error.type is the derivation's category when it has one",
    rows: [
      root(),
      row('retry', RETRY, ROOT, { retryErrorName: 'APIError', retryErrorCategory: 'overloaded' }),
    ],
    span: ROOT,
    expect: { events: [{ name: 'opencode.retry', attributes: { 'error.type': 'overloaded' } }] },
  },
  {
    rule: 'compaction: event `opencode.compaction` on the root (auto, overflow)',
    rows: [
      root(),
      row('compaction', COMP, ROOT, { partId: 'prt_c', compactionAuto: true, compactionOverflow: false }),
    ],
    span: ROOT,
    spans: 1,
    expect: {
      events: [
        {
          name: 'opencode.compaction',
          timeUs: S,
          attributes: {
            'opencode.part.id': 'prt_c',
            'opencode.compaction.auto': true,
            'opencode.compaction.overflow': false,
          },
        },
      ],
    },
  },
  {
    rule: 'compaction: the spans under the compaction span hang from the root',
    rows: [root(), row('compaction', COMP, ROOT), step(LLM1, { parentSpanId: COMP })],
    span: LLM1,
    expect: { parent: ROOT },
  },
  {
    rule: 'anything else: named by exchange_traces.name, INTERNAL, opencode.span.kind',
    rows: [root(), row('patch', OTHER, ROOT, { name: 'patch 3 files' })],
    span: OTHER,
    expect: { name: 'patch 3 files', kind: SpanKind.INTERNAL, attributes: { 'opencode.span.kind': 'patch' } },
  },
  // --- every span --------------------------------------------------------------------------------
  {
    rule: 'every span: opencode.session.id, opencode.message.id, opencode.part.id where known',
    rows: [root(), step(LLM1), tool(TOOL)],
    span: TOOL,
    expect: {
      attributes: {
        'opencode.session.id': 'ses_A',
        'opencode.message.id': 'msg_a',
        'opencode.part.id': `prt_${TOOL}`,
      },
    },
  },
  {
    rule: 'every span: no end time → opencode.span.incomplete=true, ends at its start',
    rows: [root(), step(LLM1), tool(TOOL, { startUs: S + 7, endUs: null })],
    span: TOOL,
    expect: { startUs: S + 7, endUs: S + 7, attributes: { 'opencode.span.incomplete': true } },
  },
  {
    rule: 'every span: a complete span is not marked incomplete',
    rows: [root(), step(LLM1), tool(TOOL)],
    span: TOOL,
    expect: { startUs: S, endUs: S + 10_000_000 },
    absent: ['opencode.span.incomplete'],
  },
  {
    rule: "every span: no start time → the exchange's start; an end before the start is the start",
    rows: [root({ startUs: S + 3 }), tool(TOOL, { parentSpanId: ROOT, startUs: null, endUs: S })],
    span: TOOL,
    expect: { startUs: S + 3, endUs: S + 3 },
  },
  {
    rule: 'every span: a missing parent means the root',
    rows: [root(), tool(TOOL, { parentSpanId: 'ffffffffffffffff' })],
    span: TOOL,
    expect: { parent: ROOT },
  },
  {
    rule: 'every span: two rows with one OpenCode identity are both kept, the second with a derived ID',
    rows: [root(), step(LLM1), tool(TOOL), tool(TOOL, { toolName: 'grep' })],
    span: `${TOOL.slice(0, 12)}0001`,
    spans: 4,
    expect: { name: 'execute_tool grep', parent: LLM1 },
  },
  // --- content (opt-in) ----------------------------------------------------------------------------
  {
    rule: 'content off (default): no prompt, output, arguments or result',
    rows: [root(), step(LLM1), tool(TOOL, { toolStatus: 'error', toolError: 'secret' })],
    span: TOOL,
    expect: { status: { code: SpanStatusCode.ERROR, message: 'unknown' } },
    absent: ['gen_ai.tool.call.arguments', 'gen_ai.tool.call.result', 'gen_ai.input.messages'],
  },
  {
    rule: "content on: the root's gen_ai.input.messages = the user's text parts",
    rows: [root(), step(LLM1)],
    opts: textContent([
      {
        partType: 'text',
        partId: 'p1',
        messageId: 'msg_u',
        startUs: null,
        text: 'Fix it',
        toolInput: null,
        toolOutput: null,
      },
    ]),
    span: ROOT,
    expect: {
      attributes: {
        'gen_ai.input.messages': '[{"role":"user","parts":[{"type":"text","content":"Fix it"}]}]',
      },
    },
  },
  {
    rule: "content on: a chat span's gen_ai.output.messages = the text parts that started inside its step",
    rows: [
      root(),
      step(LLM1, { endUs: S + 5 }),
      step(LLM2, { startUs: S + 6, endUs: S + 9, stepReason: 'stop' }),
    ],
    opts: textContent([
      {
        partType: 'text',
        partId: 'p1',
        messageId: 'msg_a',
        startUs: S + 7,
        text: 'Done.',
        toolInput: null,
        toolOutput: null,
      },
    ]),
    span: LLM2,
    expect: {
      attributes: {
        'gen_ai.output.messages':
          '[{"role":"assistant","parts":[{"type":"text","content":"Done."}],"finish_reason":"stop"}]',
      },
    },
  },
];

function view(s: SpanData) {
  return {
    name: s.name,
    kind: s.kind,
    parent: s.parentSpanId ?? null,
    startUs: s.startUs,
    endUs: s.endUs,
    status: s.status,
    attributes: s.attributes,
    events: s.events,
  };
}

describe('mapping table (docs/otel.md), one rule per row', () => {
  it.each(CASES)('$rule', (c) => {
    const spans = mapExchange(c.rows, c.opts ?? {});
    const span = spans.find((s) => s.spanId === c.span);
    expect(span, `span ${c.span} among ${spans.map((s) => s.spanId).join(', ')}`).toBeDefined();
    expect(view(span!)).toMatchObject(c.expect);
    for (const k of c.absent ?? []) expect(span!.attributes, k).not.toHaveProperty([k]);
    if (c.spans != null) expect(spans).toHaveLength(c.spans);
    expect(new Set(spans.map((s) => s.spanId)).size).toBe(spans.length);
  });
});
