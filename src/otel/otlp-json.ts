/**
 * `SpanData[]` → OTLP/JSON `ExportTraceServiceRequest` bytes, without building SDK ReadableSpans.
 *
 * The same object, key order included, that `@opentelemetry/otlp-transformer`'s JsonTraceSerializer
 * builds (hex IDs, times as decimal strings of nanoseconds, enums as numbers, `intValue` as a JSON
 * number), so the bytes are identical (test/otel-encode.test.ts compares them).
 */
import type { Attributes } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { SpanData } from './mapping.ts';
import { SPAN_FLAGS } from './otlp-proto.ts';
import { hrTime } from './spans.ts';

interface JsonKeyValue {
  key: string;
  value: JsonAnyValue;
}
type JsonAnyValue =
  | { stringValue: string }
  | { boolValue: boolean }
  | { intValue: number }
  | { doubleValue: number }
  | { arrayValue: { values: JsonAnyValue[] } }
  | Record<string, never>;

function anyValue(v: unknown): JsonAnyValue {
  switch (typeof v) {
    case 'string':
      return { stringValue: v };
    case 'number':
      return Number.isInteger(v) ? { intValue: v } : { doubleValue: v };
    case 'boolean':
      return { boolValue: v };
  }
  if (Array.isArray(v)) return { arrayValue: { values: v.map(anyValue) } };
  return {};
}

function attributes(attrs: Attributes): JsonKeyValue[] {
  return Object.keys(attrs).map((key) => ({ key, value: anyValue(attrs[key]) }));
}

/** Epoch µs → nanoseconds as a decimal string (the SDK's `encodeAsString` of the same HrTime). */
export function nanosString(us: number): string {
  if (Number.isSafeInteger(us) && us > 0) return `${us}000`;
  const [s, ns] = hrTime(us);
  return (BigInt(Math.trunc(s)) * 1_000_000_000n + BigInt(Math.trunc(ns))).toString();
}

function span(sd: SpanData) {
  return {
    traceId: sd.traceId,
    spanId: sd.spanId,
    parentSpanId: sd.parentSpanId || undefined,
    name: sd.name,
    kind: sd.kind + 1,
    startTimeUnixNano: nanosString(sd.startUs),
    endTimeUnixNano: nanosString(sd.endUs),
    attributes: attributes(sd.attributes),
    droppedAttributesCount: 0,
    events: sd.events.map((e) => ({
      attributes: attributes(e.attributes),
      name: e.name,
      timeUnixNano: nanosString(e.timeUs),
      droppedAttributesCount: 0,
    })),
    droppedEventsCount: 0,
    status: { code: sd.status.code, message: sd.status.message },
    links: [],
    droppedLinksCount: 0,
    flags: SPAN_FLAGS,
  };
}

export class OtlpJsonEncoder {
  private readonly resource: { attributes: JsonKeyValue[]; droppedAttributesCount: number };
  private readonly scope: { name: string; version?: string };

  constructor(resourceAttributes: Attributes, scope: InstrumentationScope) {
    this.resource = { attributes: attributes(resourceAttributes), droppedAttributesCount: 0 };
    this.scope = { name: scope.name, version: scope.version };
  }

  encode(spans: readonly SpanData[]): Uint8Array {
    const request = {
      resourceSpans:
        spans.length === 0
          ? []
          : [{ resource: this.resource, scopeSpans: [{ scope: this.scope, spans: spans.map(span) }] }],
    };
    return Buffer.from(JSON.stringify(request), 'utf8');
  }
}
