/**
 * Opt-in content (`--capture-content`, docs/otel.md "Content"): the batch's text and tool parts,
 * indexed once, and the JSON message shapes of the GenAI conventions, truncated per string.
 */
import type { Attributes } from '@opentelemetry/api';
import { ATTR_GEN_AI_OUTPUT_MESSAGES, ATTR_OPENCODE_CONTENT_TRUNCATED } from '../semconv.ts';
import type { ContentRow, TraceRow } from '../source.ts';

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

export function messagesJson(
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

/** Assistant text of one LLM call: the message's text parts that started inside the step (else the last step). */
export function llmContent(
  r: TraceRow,
  steps: readonly TraceRow[],
  content: ContentIndex,
  max: number,
  finish: string | null,
  attrs: Attributes,
): void {
  const texts = content.textsByMessage.get(r.messageId!);
  if (!texts || texts.length === 0) return;
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
