/** `llm_call` → `chat {model}`, CLIENT: the GenAI inference span (docs/otel.md, mapping table). */
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { providerName } from '../../domain/providers.ts';
import {
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_CONVERSATION_ID,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_RESPONSE_FINISH_REASONS,
  ATTR_OPENCODE_AGENT,
  ATTR_OPENCODE_COST_USD,
  ATTR_OPENCODE_ERROR_NAME,
  ATTR_OPENCODE_PROVIDER_ID,
  GEN_AI_OPERATION_NAME_VALUE_CHAT,
} from '../semconv.ts';
import type { TraceRow } from '../source.ts';
import { llmContent } from './content.ts';
import {
  llmCost,
  llmFinish,
  llmTokens,
  messageErrorType,
  outputIncludesReasoning,
  setUsage,
  str,
  usageFromRecorded,
} from './rules.ts';
import type { ExchangeContext, SpanData } from './types.ts';

export function mapLlmCall(r: TraceRow, sd: SpanData, ctx: ExchangeContext): void {
  const attrs = sd.attributes;
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
  // A message's error belongs to its last LLM call.
  let errorType: string | undefined;
  if (str(r.mErrorName) && r.messageId && ctx.lastLlmOfMessage.get(r.messageId) === r) {
    errorType = messageErrorType(r.mErrorName, r.mErrorStatus, r.mErrorMessage);
    attrs[ATTR_ERROR_TYPE] = errorType;
    attrs[ATTR_OPENCODE_ERROR_NAME] = r.mErrorName;
    sd.status = { code: SpanStatusCode.ERROR, message: r.mErrorName };
  }
  ctx.totals.llmCall(r.sessionId, usage, cost, errorType);
  if (ctx.content && r.messageId) {
    const steps = ctx.llmsOfMessage.get(r.messageId) ?? [r];
    llmContent(r, steps, ctx.content, ctx.contentMax, finish, attrs);
  }
}
