/**
 * The pure value rules of the span mapping (docs/otel.md "Mapping"): provider names, tool types, the
 * token arithmetic of the GenAI conventions, error categories, and which usage an LLM-call row has.
 */
import type { Attributes } from '@opentelemetry/api';
import { classifyError, errorInputFromToolError } from '../../domain/errors/index.ts';
import {
  ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
  GEN_AI_TOOL_TYPE_EXTENSION,
  GEN_AI_TOOL_TYPE_FUNCTION,
} from '../semconv.ts';
import type { TraceRow } from '../source.ts';

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

export const zeroUsage = (): Usage => ({
  inputTokens: 0,
  outputTokens: 0,
  cacheReadTokens: 0,
  cacheCreationTokens: 0,
  reasoningTokens: 0,
});

export function addUsage(a: Usage, b: Usage): void {
  a.inputTokens += b.inputTokens;
  a.outputTokens += b.outputTokens;
  a.cacheReadTokens += b.cacheReadTokens;
  a.cacheCreationTokens += b.cacheCreationTokens;
  a.reasoningTokens += b.reasoningTokens;
}

/** The five usage attributes under the given names (in the order input, output, cache read, cache creation, reasoning). */
export function setUsage(attrs: Attributes, u: Usage, names: UsageNames = GEN_AI_USAGE): void {
  attrs[names[0]] = u.inputTokens;
  attrs[names[1]] = u.outputTokens;
  attrs[names[2]] = u.cacheReadTokens;
  attrs[names[3]] = u.cacheCreationTokens;
  attrs[names[4]] = u.reasoningTokens;
}
export type UsageNames = readonly [string, string, string, string, string];
/** `gen_ai.usage.*`: only on inference (chat) spans, so a sum over spans counts each token once. */
export const GEN_AI_USAGE: UsageNames = [
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
];

/** A message error (or a retry's APIError) → low-cardinality `error.type` (the error taxonomy category). */
export function messageErrorType(name: string | null, status: number | null, message: string | null): string {
  return classifyError({ source: 'message', name, statusCode: status, message });
}

export function toolErrorType(error: string | null): string {
  return classifyError(errorInputFromToolError(error ?? ''));
}

/** An LLM call's recorded tokens: its step-finish's, else (no steps) the message's; a step that never finished has none. */
export function llmTokens(r: TraceRow): RecordedTokens | null {
  if (r.stepFound) {
    return {
      input: r.stepIn,
      output: r.stepOut,
      reasoning: r.stepReasoning,
      cacheRead: r.stepCacheRead,
      cacheWrite: r.stepCacheWrite,
    };
  }
  if (r.partType === 'step-start') return null;
  return {
    input: r.mIn,
    output: r.mOut,
    reasoning: r.mReasoning,
    cacheRead: r.mCacheRead,
    cacheWrite: r.mCacheWrite,
  };
}

export function llmCost(r: TraceRow): number | null {
  if (r.stepFound) return r.stepCost;
  if (r.partType === 'step-start') return null;
  return r.mCost;
}

export function llmFinish(r: TraceRow): string | null {
  if (r.stepFound) return r.stepReason;
  if (r.partType === 'step-start') return null;
  return r.mFinish;
}

export const str = (v: string | null | undefined): v is string => typeof v === 'string' && v.length > 0;
