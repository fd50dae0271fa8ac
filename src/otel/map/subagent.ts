/** `subagent` → `invoke_agent {agent}`, INTERNAL; its totals are filled in by ExchangeTotals. */
import {
  ATTR_GEN_AI_AGENT_NAME,
  ATTR_GEN_AI_CONVERSATION_ID,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_OPENCODE_PARENT_SESSION_ID,
  GEN_AI_OPERATION_NAME_VALUE_INVOKE_AGENT,
} from '../semconv.ts';
import type { TraceRow } from '../source.ts';
import { str } from './rules.ts';
import type { ExchangeContext, SpanData } from './types.ts';

export function mapSubagent(r: TraceRow, sd: SpanData, ctx: ExchangeContext): void {
  const attrs = sd.attributes;
  const agent = r.subAgent ?? r.sAgent;
  sd.name = agent
    ? `${GEN_AI_OPERATION_NAME_VALUE_INVOKE_AGENT} ${agent}`
    : GEN_AI_OPERATION_NAME_VALUE_INVOKE_AGENT;
  attrs[ATTR_GEN_AI_OPERATION_NAME] = GEN_AI_OPERATION_NAME_VALUE_INVOKE_AGENT;
  if (agent) attrs[ATTR_GEN_AI_AGENT_NAME] = agent;
  if (str(r.sessionId)) attrs[ATTR_GEN_AI_CONVERSATION_ID] = r.sessionId;
  if (str(r.sParentSessionId)) attrs[ATTR_OPENCODE_PARENT_SESSION_ID] = r.sParentSessionId;
  ctx.totals.subagent();
}
