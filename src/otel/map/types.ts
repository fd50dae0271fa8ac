/** The mapping's output (`SpanData`, encoded by otlp-proto.ts / otlp-json.ts) and what its mappers share. */
import type { Attributes, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { TraceRow } from '../source.ts';
import type { ContentIndex } from './content.ts';
import type { ExchangeTotals } from './totals.ts';

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

/** What a span-kind mapper may read about its exchange. */
export interface ExchangeContext {
  rootRow: TraceRow;
  rows: readonly TraceRow[];
  /** The LLM call that carries a message's error: its last one, by start. */
  lastLlmOfMessage: Map<string, TraceRow>;
  /** Every LLM call of a message (filled only when content is captured). */
  llmsOfMessage: Map<string, TraceRow[]>;
  totals: ExchangeTotals;
  content: ContentIndex | undefined;
  contentMax: number;
}
