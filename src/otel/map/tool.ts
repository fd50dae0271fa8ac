/** `tool` → `execute_tool {tool}`, INTERNAL (docs/otel.md, mapping table; content in "Content"). */
import { SpanStatusCode } from '@opentelemetry/api';
import {
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_TOOL_CALL_ARGUMENTS,
  ATTR_GEN_AI_TOOL_CALL_ID,
  ATTR_GEN_AI_TOOL_CALL_RESULT,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_GEN_AI_TOOL_TYPE,
  ATTR_OPENCODE_CONTENT_TRUNCATED,
  ATTR_OPENCODE_TOOL_STATUS,
  GEN_AI_OPERATION_NAME_VALUE_EXECUTE_TOOL,
} from '../semconv.ts';
import type { TraceRow } from '../source.ts';
import { type ContentIndex, truncate } from './content.ts';
import { str, toolErrorType, toolType } from './rules.ts';
import type { ExchangeContext, SpanData } from './types.ts';

/** A failed tool's status message with content captured: its error text, cut to this many characters. */
export const TOOL_ERROR_MESSAGE_MAX = 512;

export function mapTool(r: TraceRow, sd: SpanData, ctx: ExchangeContext): void {
  const attrs = sd.attributes;
  const tool = r.toolName ?? 'unknown';
  sd.name = `${GEN_AI_OPERATION_NAME_VALUE_EXECUTE_TOOL} ${tool}`;
  attrs[ATTR_GEN_AI_OPERATION_NAME] = GEN_AI_OPERATION_NAME_VALUE_EXECUTE_TOOL;
  attrs[ATTR_GEN_AI_TOOL_NAME] = tool;
  attrs[ATTR_GEN_AI_TOOL_TYPE] = toolType(r.toolName);
  if (str(r.callId)) attrs[ATTR_GEN_AI_TOOL_CALL_ID] = r.callId;
  if (str(r.toolStatus)) attrs[ATTR_OPENCODE_TOOL_STATUS] = r.toolStatus;
  const failed = r.toolStatus === 'error';
  if (failed) {
    const type = toolErrorType(r.toolError);
    attrs[ATTR_ERROR_TYPE] = type;
    sd.status = { code: SpanStatusCode.ERROR, message: type };
  }
  ctx.totals.tool(r.sessionId, failed);
  if (ctx.content && r.partId) toolContent(r, sd, ctx.content, ctx.contentMax);
}

function toolContent(r: TraceRow, sd: SpanData, content: ContentIndex, max: number): void {
  const attrs = sd.attributes;
  const c = content.toolByPart.get(r.partId!);
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
  if (r.toolStatus === 'error' && r.toolError)
    sd.status.message = truncate(r.toolError, TOOL_ERROR_MESSAGE_MAX).text;
  if (truncated) attrs[ATTR_OPENCODE_CONTENT_TRUNCATED] = true;
}
