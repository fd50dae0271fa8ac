/**
 * The mapping from OpenCode exchanges to OpenTelemetry spans: one place, documented in docs/otel.md.
 *
 * Input: the rows of one or more exchanges (source.ts), tree from exchange_traces, attributes from the
 * raw tables. Output: plain span records (`SpanData`), encoded to OTLP by otlp-proto.ts and otlp-json.ts.
 * Pure: no I/O, no clock.
 */
import { type Attributes, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { classifyError, errorInputFromToolError } from '../domain/errors/index.ts';
import {
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_AGENT_NAME,
  ATTR_GEN_AI_CONVERSATION_ID,
  ATTR_GEN_AI_INPUT_MESSAGES,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_OUTPUT_MESSAGES,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_RESPONSE_FINISH_REASONS,
  ATTR_GEN_AI_TOOL_CALL_ARGUMENTS,
  ATTR_GEN_AI_TOOL_CALL_ID,
  ATTR_GEN_AI_TOOL_CALL_RESULT,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_GEN_AI_TOOL_TYPE,
  ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
  ATTR_OPENCODE_AGENT,
  ATTR_OPENCODE_COMPACTION_AUTO,
  ATTR_OPENCODE_COMPACTION_OVERFLOW,
  ATTR_OPENCODE_CONTENT_TRUNCATED,
  ATTR_OPENCODE_COST_USD,
  ATTR_OPENCODE_ERROR_NAME,
  ATTR_OPENCODE_EXCHANGE_ID,
  ATTR_OPENCODE_EXCHANGE_STATUS,
  ATTR_OPENCODE_LLM_CALL_COUNT,
  ATTR_OPENCODE_MESSAGE_ID,
  ATTR_OPENCODE_PARENT_SESSION_ID,
  ATTR_OPENCODE_PART_ID,
  ATTR_OPENCODE_PROJECT_ID,
  ATTR_OPENCODE_PROJECT_PATH,
  ATTR_OPENCODE_PROVIDER_ID,
  ATTR_OPENCODE_RETRY_ATTEMPT,
  ATTR_OPENCODE_SESSION_ID,
  ATTR_OPENCODE_SPAN_INCOMPLETE,
  ATTR_OPENCODE_SPAN_KIND,
  ATTR_OPENCODE_SUBAGENT_COST_USD,
  ATTR_OPENCODE_SUBAGENT_COUNT,
  ATTR_OPENCODE_SUBAGENT_INPUT_TOKENS,
  ATTR_OPENCODE_SUBAGENT_OUTPUT_TOKENS,
  ATTR_OPENCODE_TOOL_CALL_COUNT,
  ATTR_OPENCODE_TOOL_ERROR_COUNT,
  ATTR_OPENCODE_TOOL_STATUS,
  ATTR_OPENCODE_VERSION,
  ERROR_TYPE_VALUE_OTHER,
  EVENT_OPENCODE_COMPACTION,
  EVENT_OPENCODE_RETRY,
  GEN_AI_OPERATION_NAME_VALUE_CHAT,
  GEN_AI_OPERATION_NAME_VALUE_EXECUTE_TOOL,
  GEN_AI_OPERATION_NAME_VALUE_INVOKE_AGENT,
  GEN_AI_TOOL_TYPE_EXTENSION,
  GEN_AI_TOOL_TYPE_FUNCTION,
  GEN_AI_PROVIDER_NAME_VALUES as P,
} from './semconv.ts';
import type { ContentRow, TraceRow } from './source.ts';

export interface SpanEventData {
  name: string;
  timeUs: number;
  attributes: Attributes;
}

export interface SpanData {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: SpanKind;
  startUs: number;
  endUs: number;
  attributes: Attributes;
  events: SpanEventData[];
  status: { code: SpanStatusCode; message?: string };
}

export interface MapOptions {
  /** Opt-in content (`--capture-content`): index of the batch's text and tool parts. */
  content?: ContentIndex;
  /** Truncate every content string to this many characters (default 4096). */
  contentMaxChars?: number;
}

/** Kinds that become span events on their parent instead of spans. */
export const EVENT_KINDS: ReadonlySet<string> = new Set(['retry', 'compaction']);

// ---------------------------------------------------------------------------------------------
// Rules (each exported and pinned by a test)

/** OpenCode providerID → `gen_ai.provider.name` (spec values where one exists, else the ID itself). */
const PROVIDERS: Record<string, string> = {
  anthropic: P.anthropic,
  openai: P.openai,
  azure: P.azureAiOpenai,
  'azure-openai': P.azureAiOpenai,
  'azure-ai-inference': P.azureAiInference,
  'amazon-bedrock': P.awsBedrock,
  bedrock: P.awsBedrock,
  google: P.gcpGemini,
  gemini: P.gcpGemini,
  'google-vertex': P.gcpVertexAi,
  'google-vertex-anthropic': P.gcpVertexAi,
  vertex: P.gcpVertexAi,
  mistral: P.mistralAi,
  xai: P.xAi,
  deepseek: P.deepseek,
  groq: P.groq,
  perplexity: P.perplexity,
  cohere: P.cohere,
  'ibm-watsonx': P.ibmWatsonxAi,
  'github-copilot': 'github_copilot',
  openrouter: 'openrouter',
};

export function providerName(providerId: string | null | undefined): string {
  if (!providerId) return ERROR_TYPE_VALUE_OTHER;
  const id = providerId.toLowerCase();
  return PROVIDERS[id] ?? id;
}

/** OpenCode's built-in tools are `function` tools; anything else (MCP, plugins) is an `extension`. */
const BUILTIN_TOOLS: ReadonlySet<string> = new Set([
  'bash',
  'read',
  'write',
  'edit',
  'multiedit',
  'patch',
  'apply_patch',
  'grep',
  'glob',
  'list',
  'ls',
  'todowrite',
  'todoread',
  'webfetch',
  'websearch',
  'codesearch',
  'task',
  'lsp',
  'lsp_diagnostics',
  'lsp_hover',
  'skill',
  'batch',
  'question',
  'invalid',
]);

export function toolType(tool: string | null | undefined): string {
  return tool && BUILTIN_TOOLS.has(tool) ? GEN_AI_TOOL_TYPE_FUNCTION : GEN_AI_TOOL_TYPE_EXTENSION;
}

/**
 * OpenCode ≥ 1.2 (AI SDK v6) stores `output = outputTokens − reasoning`; earlier builds stored the
 * provider's output, which may already include reasoning (anchors.md fact 4, opencode-storage.md
 * §7.1; the exact version is unverified upstream). Unknown versions get the current rule.
 */
export function outputIncludesReasoning(version: string | null | undefined): boolean {
  const m = /^(\d+)\.(\d+)/.exec(version ?? '');
  if (!m) return false;
  const major = Number(m[1]);
  const minor = Number(m[2]);
  return major < 1 || (major === 1 && minor < 2);
}

export interface RecordedTokens {
  input: number | null;
  output: number | null;
  reasoning: number | null;
  cacheRead: number | null;
  cacheWrite: number | null;
}

export interface Usage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheCreationTokens: number;
  reasoningTokens: number;
}

/**
 * The conventions' token arithmetic: `gen_ai.usage.input_tokens` includes cache read and creation
 * (OpenCode stores input without them), `output_tokens` includes reasoning. Null when nothing was recorded.
 */
export function usageFromRecorded(t: RecordedTokens, includesReasoning = false): Usage | null {
  if (
    t.input == null &&
    t.output == null &&
    t.reasoning == null &&
    t.cacheRead == null &&
    t.cacheWrite == null
  )
    return null;
  const input = t.input ?? 0;
  const output = t.output ?? 0;
  const reasoning = t.reasoning ?? 0;
  const cacheRead = t.cacheRead ?? 0;
  const cacheWrite = t.cacheWrite ?? 0;
  return {
    inputTokens: input + cacheRead + cacheWrite,
    outputTokens: includesReasoning ? output : output + reasoning,
    cacheReadTokens: cacheRead,
    cacheCreationTokens: cacheWrite,
    reasoningTokens: reasoning,
  };
}

function addUsage(a: Usage, b: Usage): void {
  a.inputTokens += b.inputTokens;
  a.outputTokens += b.outputTokens;
  a.cacheReadTokens += b.cacheReadTokens;
  a.cacheCreationTokens += b.cacheCreationTokens;
  a.reasoningTokens += b.reasoningTokens;
}

const zeroUsage = (): Usage => ({
  inputTokens: 0,
  outputTokens: 0,
  cacheReadTokens: 0,
  cacheCreationTokens: 0,
  reasoningTokens: 0,
});

function setUsage(attrs: Attributes, u: Usage): void {
  attrs[ATTR_GEN_AI_USAGE_INPUT_TOKENS] = u.inputTokens;
  attrs[ATTR_GEN_AI_USAGE_OUTPUT_TOKENS] = u.outputTokens;
  attrs[ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = u.cacheReadTokens;
  attrs[ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] = u.cacheCreationTokens;
  attrs[ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] = u.reasoningTokens;
}

/** A message error (or a retry's APIError) → low-cardinality `error.type` (the error taxonomy category). */
export function messageErrorType(name: string | null, status: number | null, message: string | null): string {
  return classifyError({ source: 'message', name, statusCode: status, message });
}

export function toolErrorType(error: string | null): string {
  return classifyError(errorInputFromToolError(error ?? ''));
}

// ---------------------------------------------------------------------------------------------
// Content (opt-in)

export interface ContentIndex {
  textsByMessage: Map<string, { startUs: number | null; text: string }[]>;
  toolByPart: Map<string, { input: string | null; output: string | null }>;
}

export function buildContentIndex(rows: readonly ContentRow[]): ContentIndex {
  const textsByMessage = new Map<string, { startUs: number | null; text: string }[]>();
  const toolByPart = new Map<string, { input: string | null; output: string | null }>();
  for (const r of rows) {
    if (r.partType === 'text' && r.text) {
      let list = textsByMessage.get(r.messageId);
      if (!list) {
        list = [];
        textsByMessage.set(r.messageId, list);
      }
      list.push({ startUs: r.startUs, text: r.text });
    } else if (r.partType === 'tool') {
      toolByPart.set(r.partId, { input: r.toolInput, output: r.toolOutput });
    }
  }
  return { textsByMessage, toolByPart };
}

export function truncate(s: string, max: number): { text: string; truncated: boolean } {
  if (s.length <= max) return { text: s, truncated: false };
  return { text: `${s.slice(0, max)}…[truncated ${s.length - max} chars]`, truncated: true };
}

function messagesJson(
  role: 'user' | 'assistant',
  texts: readonly string[],
  max: number,
  finishReason?: string | null,
): { json: string; truncated: boolean } {
  let truncated = false;
  const parts = texts.map((t) => {
    const r = truncate(t, max);
    truncated ||= r.truncated;
    return { type: 'text', content: r.text };
  });
  const msg: Record<string, unknown> = { role, parts };
  if (role === 'assistant' && finishReason) msg.finish_reason = finishReason;
  return { json: JSON.stringify([msg]), truncated };
}

// ---------------------------------------------------------------------------------------------
// The tree

const str = (v: string | null | undefined): v is string => typeof v === 'string' && v.length > 0;

function llmTokens(r: TraceRow): RecordedTokens | null {
  if (r.stepFound) {
    return {
      input: r.stepIn,
      output: r.stepOut,
      reasoning: r.stepReasoning,
      cacheRead: r.stepCacheRead,
      cacheWrite: r.stepCacheWrite,
    };
  }
  if (r.partType === 'step-start') return null; // a step that never finished: no usage recorded
  return {
    input: r.mIn,
    output: r.mOut,
    reasoning: r.mReasoning,
    cacheRead: r.mCacheRead,
    cacheWrite: r.mCacheWrite,
  };
}

function llmCost(r: TraceRow): number | null {
  if (r.stepFound) return r.stepCost;
  if (r.partType === 'step-start') return null;
  return r.mCost;
}

function llmFinish(r: TraceRow): string | null {
  if (r.stepFound) return r.stepReason;
  if (r.partType === 'step-start') return null;
  return r.mFinish;
}

/** Maps the rows of any number of exchanges (grouped by exchange, as source.ts returns them). */
export function mapRows(rows: readonly TraceRow[], opts: MapOptions = {}): SpanData[] {
  const out: SpanData[] = [];
  let start = 0;
  for (let i = 1; i <= rows.length; i++) {
    if (i === rows.length || rows[i]!.exchangeId !== rows[start]!.exchangeId) {
      mapExchange(rows.slice(start, i), opts, out);
      start = i;
    }
  }
  return out;
}

/** Maps the rows of one exchange, appending its spans to `out`. */
export function mapExchange(rows: readonly TraceRow[], opts: MapOptions, out: SpanData[] = []): SpanData[] {
  if (rows.length === 0) return out;
  const max = opts.contentMaxChars ?? 4096;
  const byId = new Map<string, TraceRow>();
  const seen = new Map<string, number>();
  const ids: string[] = new Array(rows.length);
  rows.forEach((r, i) => {
    // Two rows with the same OpenCode identity: keep both, the second gets a derived id.
    const n = seen.get(r.spanId) ?? 0;
    seen.set(r.spanId, n + 1);
    ids[i] = n === 0 ? r.spanId : `${r.spanId.slice(0, 12)}${(n & 0xffff).toString(16).padStart(4, '0')}`;
    if (n === 0) byId.set(r.spanId, r);
  });
  const rootRow = rows.find((r) => r.kind === 'exchange') ?? rows.find((r) => !r.parentSpanId) ?? rows[0]!;
  const rootId = rootRow.spanId;
  const rootSession = rootRow.sessionId;

  // Effective parent: events are not spans, so a span under an event hangs under the event's parent;
  // a missing or absent parent means the root.
  const parentOf = (r: TraceRow): string | undefined => {
    if (r === rootRow) return undefined;
    let p = r.parentSpanId;
    for (let guard = 0; guard < 64; guard++) {
      if (!p || p === r.spanId) return rootId;
      const pr = byId.get(p);
      if (!pr) return rootId;
      if (!EVENT_KINDS.has(pr.kind)) return p;
      p = pr.parentSpanId;
    }
    return rootId;
  };

  const rootStart = rootRow.startUs ?? Math.min(...rows.map((r) => r.startUs ?? Number.POSITIVE_INFINITY));
  const spans = new Map<string, SpanData>();

  // The LLM call that carries a message's error: its last one.
  const lastLlmOfMessage = new Map<string, TraceRow>();
  for (const r of rows) {
    if (r.kind !== 'llm_call' || !r.messageId) continue;
    const cur = lastLlmOfMessage.get(r.messageId);
    if (!cur || (r.startUs ?? 0) >= (cur.startUs ?? 0)) lastLlmOfMessage.set(r.messageId, r);
  }
  const llmsOfMessage = new Map<string, TraceRow[]>();
  if (opts.content) {
    for (const r of rows) {
      if (r.kind !== 'llm_call' || !r.messageId) continue;
      const list = llmsOfMessage.get(r.messageId) ?? [];
      list.push(r);
      llmsOfMessage.set(r.messageId, list);
    }
  }

  const own = zeroUsage();
  let ownCost = 0;
  let ownLlm = 0;
  let toolCount = 0;
  let toolErrors = 0;
  let firstOwnError: string | undefined;
  const subUsage = new Map<string, { usage: Usage; cost: number }>();
  const subTotal = zeroUsage();
  let subCost = 0;
  let subagents = 0;
  const events: Array<{ parent: string; ev: SpanEventData }> = [];

  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    if (EVENT_KINDS.has(r.kind)) {
      events.push({ parent: parentOf(r) ?? rootId, ev: eventFor(r, rootStart) });
      continue;
    }
    const startUs = r.startUs ?? rootStart;
    const incomplete = r.endUs == null;
    const endUs = Math.max(startUs, r.endUs ?? startUs);
    const attrs: Attributes = {};
    const sd: SpanData = {
      traceId: r.traceId,
      spanId: ids[i]!,
      name: r.name ?? r.kind,
      kind: SpanKind.INTERNAL,
      startUs,
      endUs,
      attributes: attrs,
      events: [],
      status: { code: SpanStatusCode.UNSET },
    };
    const parent = parentOf(r);
    if (parent) sd.parentSpanId = parent;
    if (str(r.sessionId)) attrs[ATTR_OPENCODE_SESSION_ID] = r.sessionId;
    if (str(r.messageId)) attrs[ATTR_OPENCODE_MESSAGE_ID] = r.messageId;
    if (str(r.partId)) attrs[ATTR_OPENCODE_PART_ID] = r.partId;
    if (incomplete && r !== rootRow) attrs[ATTR_OPENCODE_SPAN_INCOMPLETE] = true;

    switch (r.kind) {
      case 'exchange':
        break; // filled in after the loop, when the totals are known
      case 'llm_call': {
        const model = r.mModelId;
        sd.name = model ? `${GEN_AI_OPERATION_NAME_VALUE_CHAT} ${model}` : GEN_AI_OPERATION_NAME_VALUE_CHAT;
        sd.kind = SpanKind.CLIENT;
        attrs[ATTR_GEN_AI_OPERATION_NAME] = GEN_AI_OPERATION_NAME_VALUE_CHAT;
        attrs[ATTR_GEN_AI_PROVIDER_NAME] = providerName(r.mProviderId);
        if (str(r.mProviderId)) attrs[ATTR_OPENCODE_PROVIDER_ID] = r.mProviderId;
        if (model) attrs[ATTR_GEN_AI_REQUEST_MODEL] = model;
        if (str(r.sessionId)) attrs[ATTR_GEN_AI_CONVERSATION_ID] = r.sessionId;
        if (str(r.mAgent)) attrs[ATTR_OPENCODE_AGENT] = r.mAgent;
        const finish = llmFinish(r);
        if (str(finish)) attrs[ATTR_GEN_AI_RESPONSE_FINISH_REASONS] = [finish];
        const tokens = llmTokens(r);
        const usage = tokens ? usageFromRecorded(tokens, outputIncludesReasoning(r.sVersion)) : null;
        if (usage) setUsage(attrs, usage);
        const cost = llmCost(r);
        if (cost != null) attrs[ATTR_OPENCODE_COST_USD] = cost;
        let errorType: string | undefined;
        if (str(r.mErrorName) && r.messageId && lastLlmOfMessage.get(r.messageId) === r) {
          errorType = messageErrorType(r.mErrorName, r.mErrorStatus, r.mErrorMessage);
          attrs[ATTR_ERROR_TYPE] = errorType;
          attrs[ATTR_OPENCODE_ERROR_NAME] = r.mErrorName;
          sd.status = { code: SpanStatusCode.ERROR, message: r.mErrorName };
        }
        if (r.sessionId === rootSession) {
          ownLlm++;
          if (usage) addUsage(own, usage);
          ownCost += cost ?? 0;
          if (errorType && !firstOwnError) firstOwnError = errorType;
        } else if (r.sessionId) {
          const s = subUsage.get(r.sessionId) ?? { usage: zeroUsage(), cost: 0 };
          if (usage) {
            addUsage(s.usage, usage);
            addUsage(subTotal, usage);
          }
          s.cost += cost ?? 0;
          subCost += cost ?? 0;
          subUsage.set(r.sessionId, s);
        }
        if (opts.content && r.messageId) llmContent(r, llmsOfMessage, opts.content, max, finish, attrs);
        break;
      }
      case 'tool': {
        const tool = r.toolName ?? 'unknown';
        sd.name = `${GEN_AI_OPERATION_NAME_VALUE_EXECUTE_TOOL} ${tool}`;
        attrs[ATTR_GEN_AI_OPERATION_NAME] = GEN_AI_OPERATION_NAME_VALUE_EXECUTE_TOOL;
        attrs[ATTR_GEN_AI_TOOL_NAME] = tool;
        attrs[ATTR_GEN_AI_TOOL_TYPE] = toolType(r.toolName);
        if (str(r.callId)) attrs[ATTR_GEN_AI_TOOL_CALL_ID] = r.callId;
        if (str(r.toolStatus)) attrs[ATTR_OPENCODE_TOOL_STATUS] = r.toolStatus;
        if (r.sessionId === rootSession) toolCount++;
        if (r.toolStatus === 'error') {
          const type = toolErrorType(r.toolError);
          attrs[ATTR_ERROR_TYPE] = type;
          sd.status = { code: SpanStatusCode.ERROR, message: type };
          if (r.sessionId === rootSession) toolErrors++;
        }
        if (opts.content && r.partId) {
          const c = opts.content.toolByPart.get(r.partId);
          let truncated = false;
          if (c?.input) {
            const t = truncate(c.input, max);
            attrs[ATTR_GEN_AI_TOOL_CALL_ARGUMENTS] = t.text;
            truncated ||= t.truncated;
          }
          if (c?.output) {
            const t = truncate(c.output, max);
            attrs[ATTR_GEN_AI_TOOL_CALL_RESULT] = t.text;
            truncated ||= t.truncated;
          }
          if (r.toolStatus === 'error' && r.toolError) sd.status.message = truncate(r.toolError, 512).text;
          if (truncated) attrs[ATTR_OPENCODE_CONTENT_TRUNCATED] = true;
        }
        break;
      }
      case 'subagent': {
        const agent = r.subAgent ?? r.sAgent;
        sd.name = agent
          ? `${GEN_AI_OPERATION_NAME_VALUE_INVOKE_AGENT} ${agent}`
          : GEN_AI_OPERATION_NAME_VALUE_INVOKE_AGENT;
        attrs[ATTR_GEN_AI_OPERATION_NAME] = GEN_AI_OPERATION_NAME_VALUE_INVOKE_AGENT;
        if (agent) attrs[ATTR_GEN_AI_AGENT_NAME] = agent;
        if (str(r.sessionId)) attrs[ATTR_GEN_AI_CONVERSATION_ID] = r.sessionId;
        if (str(r.sParentSessionId)) attrs[ATTR_OPENCODE_PARENT_SESSION_ID] = r.sParentSessionId;
        subagents++;
        break;
      }
      default:
        attrs[ATTR_OPENCODE_SPAN_KIND] = r.kind;
    }
    spans.set(sd.spanId, sd);
  }

  // Sub-agent spans carry the usage of their own session's LLM calls.
  for (const r of rows) {
    if (r.kind !== 'subagent' || !r.sessionId) continue;
    const sd = spans.get(r.spanId);
    const s = subUsage.get(r.sessionId);
    if (!sd || !s) continue;
    setUsage(sd.attributes, s.usage);
    sd.attributes[ATTR_OPENCODE_COST_USD] = s.cost;
  }

  // The root: identity, project, agent, totals.
  const root = spans.get(rootId);
  if (root) {
    const a = root.attributes;
    const agent = rootRow.exAgent ?? rootRow.mAgent ?? rootRow.sAgent;
    root.name = agent ? `exchange ${agent}` : 'exchange';
    root.kind = SpanKind.INTERNAL;
    a[ATTR_OPENCODE_EXCHANGE_ID] = rootRow.exchangeId;
    if (str(rootSession)) a[ATTR_GEN_AI_CONVERSATION_ID] = rootSession;
    if (agent) {
      a[ATTR_GEN_AI_AGENT_NAME] = agent;
      a[ATTR_OPENCODE_AGENT] = agent;
    }
    if (str(rootRow.sProjectId)) a[ATTR_OPENCODE_PROJECT_ID] = rootRow.sProjectId;
    const path = rootRow.sDirectory ?? rows.find((r) => r.mRootPath)?.mRootPath;
    if (str(path)) a[ATTR_OPENCODE_PROJECT_PATH] = path;
    if (str(rootRow.sVersion)) a[ATTR_OPENCODE_VERSION] = rootRow.sVersion;
    const provider = rootRow.exProviderId ?? rootRow.mProviderId;
    const model = rootRow.exModelId ?? rootRow.mModelId;
    if (str(provider)) a[ATTR_GEN_AI_PROVIDER_NAME] = providerName(provider);
    if (str(model)) a[ATTR_GEN_AI_REQUEST_MODEL] = model;
    if (str(rootRow.exStatus)) a[ATTR_OPENCODE_EXCHANGE_STATUS] = rootRow.exStatus;
    setUsage(a, own);
    a[ATTR_OPENCODE_COST_USD] = ownCost;
    a[ATTR_OPENCODE_LLM_CALL_COUNT] = ownLlm;
    a[ATTR_OPENCODE_TOOL_CALL_COUNT] = toolCount;
    a[ATTR_OPENCODE_TOOL_ERROR_COUNT] = toolErrors;
    if (subagents > 0) {
      a[ATTR_OPENCODE_SUBAGENT_COUNT] = subagents;
      a[ATTR_OPENCODE_SUBAGENT_COST_USD] = subCost;
      a[ATTR_OPENCODE_SUBAGENT_INPUT_TOKENS] = subTotal.inputTokens;
      a[ATTR_OPENCODE_SUBAGENT_OUTPUT_TOKENS] = subTotal.outputTokens;
    }
    if (rootRow.exStatus === 'error' || firstOwnError) {
      a[ATTR_ERROR_TYPE] = firstOwnError ?? ERROR_TYPE_VALUE_OTHER;
      root.status = { code: SpanStatusCode.ERROR, message: firstOwnError ?? 'error' };
    }
    if (opts.content && rootRow.messageId) {
      const texts = opts.content.textsByMessage.get(rootRow.messageId);
      if (texts && texts.length > 0) {
        const m = messagesJson(
          'user',
          texts.map((t) => t.text),
          max,
        );
        a[ATTR_GEN_AI_INPUT_MESSAGES] = m.json;
        if (m.truncated) a[ATTR_OPENCODE_CONTENT_TRUNCATED] = true;
      }
    }
  }

  for (const { parent, ev } of events) (spans.get(parent) ?? root)?.events.push(ev);
  for (const sd of spans.values()) {
    if (sd.events.length > 1) sd.events.sort((x, y) => x.timeUs - y.timeUs);
    out.push(sd);
  }
  return out;
}

function eventFor(r: TraceRow, fallbackUs: number): SpanEventData {
  const attributes: Attributes = {};
  if (str(r.partId)) attributes[ATTR_OPENCODE_PART_ID] = r.partId;
  if (r.kind === 'retry') {
    if (r.retryAttempt != null) attributes[ATTR_OPENCODE_RETRY_ATTEMPT] = r.retryAttempt;
    if (str(r.retryErrorName) || str(r.retryErrorMessage) || r.retryErrorStatus != null) {
      attributes[ATTR_ERROR_TYPE] =
        r.retryErrorCategory ??
        classifyError({
          source: 'retry',
          name: r.retryErrorName,
          statusCode: r.retryErrorStatus,
          message: r.retryErrorMessage,
        });
      if (str(r.retryErrorName)) attributes[ATTR_OPENCODE_ERROR_NAME] = r.retryErrorName;
    }
    return { name: EVENT_OPENCODE_RETRY, timeUs: r.startUs ?? fallbackUs, attributes };
  }
  if (r.compactionAuto != null) attributes[ATTR_OPENCODE_COMPACTION_AUTO] = r.compactionAuto;
  if (r.compactionOverflow != null) attributes[ATTR_OPENCODE_COMPACTION_OVERFLOW] = r.compactionOverflow;
  return { name: EVENT_OPENCODE_COMPACTION, timeUs: r.startUs ?? fallbackUs, attributes };
}

/** Assistant text of one LLM call: the message's text parts that started inside the step (else the last step). */
function llmContent(
  r: TraceRow,
  llmsOfMessage: Map<string, TraceRow[]>,
  content: ContentIndex,
  max: number,
  finish: string | null,
  attrs: Attributes,
): void {
  const texts = content.textsByMessage.get(r.messageId!);
  if (!texts || texts.length === 0) return;
  const steps = llmsOfMessage.get(r.messageId!) ?? [r];
  const last = steps.reduce((a, b) => ((b.startUs ?? 0) >= (a.startUs ?? 0) ? b : a));
  const mine = texts.filter((t) => {
    const owner =
      t.startUs == null
        ? last
        : (steps.find(
            (s) => s.startUs != null && s.endUs != null && t.startUs! >= s.startUs && t.startUs! <= s.endUs,
          ) ?? last);
    return owner === r;
  });
  if (mine.length === 0) return;
  const m = messagesJson(
    'assistant',
    mine.map((t) => t.text),
    max,
    finish,
  );
  attrs[ATTR_GEN_AI_OUTPUT_MESSAGES] = m.json;
  if (m.truncated) attrs[ATTR_OPENCODE_CONTENT_TRUNCATED] = true;
}
