/** The exchange root (`exchange {agent}`): identity, project, agent, totals, error (docs/otel.md, mapping table). */
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { providerName } from '../../domain/providers.ts';
import {
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_AGENT_NAME,
  ATTR_GEN_AI_CONVERSATION_ID,
  ATTR_GEN_AI_INPUT_MESSAGES,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_OPENCODE_AGENT,
  ATTR_OPENCODE_CONTENT_TRUNCATED,
  ATTR_OPENCODE_EXCHANGE_ID,
  ATTR_OPENCODE_EXCHANGE_STATUS,
  ATTR_OPENCODE_PROJECT_ID,
  ATTR_OPENCODE_PROJECT_PATH,
  ATTR_OPENCODE_VERSION,
  ERROR_TYPE_VALUE_OTHER,
} from '../semconv.ts';
import { messagesJson } from './content.ts';
import { str } from './rules.ts';
import type { ExchangeContext, SpanData } from './types.ts';

/** Runs after every other span of the exchange is mapped: the totals are complete. */
export function mapRoot(sd: SpanData, ctx: ExchangeContext): void {
  const rootRow = ctx.rootRow;
  const a = sd.attributes;
  const agent = rootRow.exAgent ?? rootRow.mAgent ?? rootRow.sAgent;
  sd.name = agent ? `exchange ${agent}` : 'exchange';
  sd.kind = SpanKind.INTERNAL;
  a[ATTR_OPENCODE_EXCHANGE_ID] = rootRow.exchangeId;
  if (str(rootRow.sessionId)) a[ATTR_GEN_AI_CONVERSATION_ID] = rootRow.sessionId;
  if (agent) {
    a[ATTR_GEN_AI_AGENT_NAME] = agent;
    a[ATTR_OPENCODE_AGENT] = agent;
  }
  if (str(rootRow.sProjectId)) a[ATTR_OPENCODE_PROJECT_ID] = rootRow.sProjectId;
  const path = rootRow.sDirectory ?? ctx.rows.find((r) => r.mRootPath)?.mRootPath;
  if (str(path)) a[ATTR_OPENCODE_PROJECT_PATH] = path;
  if (str(rootRow.sVersion)) a[ATTR_OPENCODE_VERSION] = rootRow.sVersion;
  const provider = rootRow.exProviderId ?? rootRow.mProviderId;
  const model = rootRow.exModelId ?? rootRow.mModelId;
  if (str(provider)) a[ATTR_GEN_AI_PROVIDER_NAME] = providerName(provider);
  if (str(model)) a[ATTR_GEN_AI_REQUEST_MODEL] = model;
  if (str(rootRow.exStatus)) a[ATTR_OPENCODE_EXCHANGE_STATUS] = rootRow.exStatus;
  ctx.totals.setRootAttributes(a);
  // ERROR when the exchange failed or one of its own LLM calls did; `_OTHER` when no call says why.
  const firstError = ctx.totals.firstOwnError;
  if (rootRow.exStatus === 'error' || firstError) {
    a[ATTR_ERROR_TYPE] = firstError ?? ERROR_TYPE_VALUE_OTHER;
    sd.status = { code: SpanStatusCode.ERROR, message: firstError ?? 'error' };
  }
  if (ctx.content && rootRow.messageId) {
    const texts = ctx.content.textsByMessage.get(rootRow.messageId);
    if (texts && texts.length > 0) {
      const m = messagesJson(
        'user',
        texts.map((t) => t.text),
        ctx.contentMax,
      );
      a[ATTR_GEN_AI_INPUT_MESSAGES] = m.json;
      if (m.truncated) a[ATTR_OPENCODE_CONTENT_TRUNCATED] = true;
    }
  }
}
