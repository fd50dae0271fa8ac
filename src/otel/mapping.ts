/**
 * The mapping from OpenCode exchanges to OpenTelemetry spans, documented in docs/otel.md ("Mapping").
 *
 * Input: the rows of one or more exchanges (source.ts), tree from exchange_traces, attributes from the
 * raw tables. Output: plain span records (`SpanData`), encoded to OTLP by otlp-proto.ts and otlp-json.ts.
 * Pure: no I/O, no clock. This module builds the tree (span IDs, parents, times, the attributes every
 * span has); one mapper per span kind (map/llm-call.ts, tool.ts, subagent.ts, root.ts, events.ts) fills
 * in the rest, and map/totals.ts accumulates the exchange's totals for the root and sub-agent spans.
 * Every rule is pinned by test/otel-mapping.test.ts.
 */
import { type Attributes, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { EVENT_KINDS, eventFor } from './map/events.ts';
import { mapLlmCall } from './map/llm-call.ts';
import { mapRoot } from './map/root.ts';
import { str } from './map/rules.ts';
import { mapSubagent } from './map/subagent.ts';
import { mapTool } from './map/tool.ts';
import { ExchangeTotals } from './map/totals.ts';
import type { ExchangeContext, MapOptions, SpanData, SpanEventData } from './map/types.ts';
import {
  ATTR_OPENCODE_MESSAGE_ID,
  ATTR_OPENCODE_PART_ID,
  ATTR_OPENCODE_SESSION_ID,
  ATTR_OPENCODE_SPAN_INCOMPLETE,
  ATTR_OPENCODE_SPAN_KIND,
} from './semconv.ts';
import type { TraceRow } from './source.ts';

export { buildContentIndex, type ContentIndex, truncate } from './map/content.ts';
export { EVENT_KINDS } from './map/events.ts';
export {
  messageErrorType,
  outputIncludesReasoning,
  type RecordedTokens,
  toolErrorType,
  toolType,
  type Usage,
  usageFromRecorded,
} from './map/rules.ts';
export type { MapOptions, SpanData, SpanEventData } from './map/types.ts';

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

/**
 * Span IDs of an exchange's rows: two rows with the same OpenCode identity are both kept, the second
 * (third, …) with a derived ID (the first 12 hex digits and a 4-digit counter). Also returns the first
 * row of each ID, for the parent lookup.
 */
export function spanIdsOf(rows: readonly TraceRow[]): { ids: string[]; byId: Map<string, TraceRow> } {
  const byId = new Map<string, TraceRow>();
  const seen = new Map<string, number>();
  const ids: string[] = new Array(rows.length);
  rows.forEach((r, i) => {
    const n = seen.get(r.spanId) ?? 0;
    seen.set(r.spanId, n + 1);
    ids[i] = n === 0 ? r.spanId : `${r.spanId.slice(0, 12)}${(n & 0xffff).toString(16).padStart(4, '0')}`;
    if (n === 0) byId.set(r.spanId, r);
  });
  return { ids, byId };
}

/** Maps the rows of one exchange, appending its spans to `out`. */
export function mapExchange(rows: readonly TraceRow[], opts: MapOptions, out: SpanData[] = []): SpanData[] {
  if (rows.length === 0) return out;
  const { ids, byId } = spanIdsOf(rows);
  const rootRow = rows.find((r) => r.kind === 'exchange') ?? rows.find((r) => !r.parentSpanId) ?? rows[0]!;
  const rootId = rootRow.spanId;

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
  const ctx = contextOf(rows, rootRow, opts);
  const spans = new Map<string, SpanData>();
  const events: Array<{ parent: string; ev: SpanEventData }> = [];
  const subagents: TraceRow[] = [];

  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    if (EVENT_KINDS.has(r.kind)) {
      events.push({ parent: parentOf(r) ?? rootId, ev: eventFor(r, rootStart) });
      continue;
    }
    const sd = baseSpan(r, ids[i]!, rootStart, r !== rootRow);
    const parent = parentOf(r);
    if (parent) sd.parentSpanId = parent;
    switch (r.kind) {
      case 'exchange':
        break; // mapRoot, after the loop, when the totals are known
      case 'llm_call':
        mapLlmCall(r, sd, ctx);
        break;
      case 'tool':
        mapTool(r, sd, ctx);
        break;
      case 'subagent':
        mapSubagent(r, sd, ctx);
        subagents.push(r);
        break;
      default:
        sd.attributes[ATTR_OPENCODE_SPAN_KIND] = r.kind;
    }
    spans.set(sd.spanId, sd);
  }

  for (const r of subagents) {
    const sd = spans.get(r.spanId);
    if (sd && r.sessionId) ctx.totals.setSubagentAttributes(r.sessionId, sd.attributes);
  }
  const root = spans.get(rootId);
  if (root) mapRoot(root, ctx);

  for (const { parent, ev } of events) (spans.get(parent) ?? root)?.events.push(ev);
  for (const sd of spans.values()) {
    if (sd.events.length > 1) sd.events.sort((x, y) => x.timeUs - y.timeUs);
    out.push(sd);
  }
  return out;
}

/**
 * What every span has: its times (no start: the exchange's; no end: its start, and
 * `opencode.span.incomplete` on any span but the root), the OpenCode IDs it comes from.
 */
function baseSpan(r: TraceRow, spanId: string, rootStart: number, markIncomplete: boolean): SpanData {
  const startUs = r.startUs ?? rootStart;
  const attrs: Attributes = {};
  if (str(r.sessionId)) attrs[ATTR_OPENCODE_SESSION_ID] = r.sessionId;
  if (str(r.messageId)) attrs[ATTR_OPENCODE_MESSAGE_ID] = r.messageId;
  if (str(r.partId)) attrs[ATTR_OPENCODE_PART_ID] = r.partId;
  if (r.endUs == null && markIncomplete) attrs[ATTR_OPENCODE_SPAN_INCOMPLETE] = true;
  return {
    traceId: r.traceId,
    spanId,
    name: r.name ?? r.kind,
    kind: SpanKind.INTERNAL,
    startUs,
    endUs: Math.max(startUs, r.endUs ?? startUs),
    attributes: attrs,
    events: [],
    status: { code: SpanStatusCode.UNSET },
  };
}

function contextOf(rows: readonly TraceRow[], rootRow: TraceRow, opts: MapOptions): ExchangeContext {
  const lastLlmOfMessage = new Map<string, TraceRow>();
  const llmsOfMessage = new Map<string, TraceRow[]>();
  for (const r of rows) {
    if (r.kind !== 'llm_call' || !r.messageId) continue;
    const cur = lastLlmOfMessage.get(r.messageId);
    if (!cur || (r.startUs ?? 0) >= (cur.startUs ?? 0)) lastLlmOfMessage.set(r.messageId, r);
    if (opts.content) {
      const list = llmsOfMessage.get(r.messageId) ?? [];
      list.push(r);
      llmsOfMessage.set(r.messageId, list);
    }
  }
  return {
    rootRow,
    rows,
    lastLlmOfMessage,
    llmsOfMessage,
    totals: new ExchangeTotals(rootRow.sessionId),
    content: opts.content,
    contentMax: opts.contentMaxChars ?? 4096,
  };
}
