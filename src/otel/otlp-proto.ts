/**
 * `SpanData[]` → OTLP `ExportTraceServiceRequest` protobuf bytes, without building SDK ReadableSpans.
 *
 * Field numbers from opentelemetry-proto (trace/v1/trace.proto, common/v1/common.proto,
 * resource/v1/resource.proto); fields in the order, and with the defaults, that
 * `@opentelemetry/otlp-transformer`'s ProtobufTraceSerializer writes, so the bytes are identical
 * (test/otel-encode.test.ts compares them). One resource, one scope per request.
 *
 *   ExportTraceServiceRequest { 1 resource_spans: ResourceSpans }
 *   ResourceSpans { 1 resource: Resource { 1 attributes, 2 dropped_attributes_count }, 2 scope_spans }
 *   ScopeSpans { 1 scope: InstrumentationScope { 1 name, 2 version }, 2 spans }
 *   Span { 1 trace_id, 2 span_id, 4 parent_span_id, 5 name, 6 kind, 7 start fixed64, 8 end fixed64,
 *          9 attributes, 10 dropped_attributes_count, 11 events, 12 dropped_events_count,
 *          14 dropped_links_count, 15 status { 2 message, 3 code }, 16 flags fixed32 }
 *   Event { 1 time fixed64, 2 name, 3 attributes, 4 dropped_attributes_count }
 *   KeyValue { 1 key, 2 value: AnyValue { 1 string, 2 bool, 3 int, 4 double, 5 array { 1 values } } }
 */

import type { Attributes, AttributeValue } from '@opentelemetry/api';
import { TraceFlags } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { SpanData } from './mapping.ts';
import { ProtoWriter } from './proto-writer.ts';
import { hrTime } from './spans.ts';

const LEN = 2;
const VARINT = 0;
const I64 = 1;
const I32 = 5;
/** W3C sampled flag + SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE (the parent is local), as the SDK writes. */
export const SPAN_FLAGS = (TraceFlags.SAMPLED & 0xff) | 0x100;

const MIN_INT64 = -(2 ** 63);
const MAX_INT64 = 2 ** 63;

/** Epoch µs as fixed64 nanoseconds, from the same [seconds, nanoseconds] split as the SDK spans. */
function writeTimeUs(w: ProtoWriter, us: number): void {
  const [s, ns] = hrTime(us);
  // seconds × 1e9 + ns as two 32-bit halves, exactly (the SDK's writeHrTimeAsFixed64 arithmetic)
  const lo16 = (s & 0xffff) * 1e9;
  const hi = ((s / 0x10000) >>> 0) * 1e9;
  const low = (lo16 >>> 0) + (((hi & 0xffff) * 0x10000) >>> 0) + ns;
  const high = Math.floor(lo16 / 0x100000000) + ((hi / 0x10000) >>> 0) + Math.floor(low / 0x100000000);
  w.fixed64(low >>> 0, high >>> 0);
}

function writeAnyValue(w: ProtoWriter, v: unknown): void {
  switch (typeof v) {
    case 'string':
      w.tag(1, LEN);
      w.string(v);
      return;
    case 'boolean':
      w.tag(2, VARINT);
      w.uint32(v ? 1 : 0);
      return;
    case 'number':
      if (Number.isInteger(v) && v >= MIN_INT64 && v < MAX_INT64) {
        w.tag(3, VARINT);
        w.int64(v);
      } else {
        w.tag(4, I64);
        w.double(v);
      }
      return;
  }
  if (Array.isArray(v)) {
    w.tag(5, LEN);
    const a = w.begin();
    for (const item of v) {
      w.tag(1, LEN);
      const m = w.begin();
      writeAnyValue(w, item);
      w.end(m);
    }
    w.end(a);
  }
  // null / undefined: an empty AnyValue, as the SDK writes
}

/** `KeyValue.key` with its tag and length, encoded once per distinct key. */
const keyCache = new Map<string, Uint8Array>();
function keyBytes(key: string): Uint8Array {
  let b = keyCache.get(key);
  if (!b) {
    const w = new ProtoWriter(key.length * 3 + 8);
    w.tag(1, LEN);
    w.string(key);
    b = w.bytes();
    if (keyCache.size < 4096) keyCache.set(key, b);
  }
  return b;
}

function writeAttributes(w: ProtoWriter, attrs: Attributes, field: number): void {
  for (const key in attrs) {
    if (!Object.hasOwn(attrs, key)) continue;
    w.tag(field, LEN);
    const kv = w.begin();
    w.raw(keyBytes(key));
    w.tag(2, LEN);
    const v = w.begin();
    writeAnyValue(w, attrs[key] as AttributeValue | undefined);
    w.end(v);
    w.end(kv);
  }
}

function writeSpan(w: ProtoWriter, sd: SpanData): void {
  w.tag(1, LEN);
  w.hexBytes(sd.traceId);
  w.tag(2, LEN);
  w.hexBytes(sd.spanId);
  if (sd.parentSpanId) {
    w.tag(4, LEN);
    w.hexBytes(sd.parentSpanId);
  }
  w.tag(5, LEN);
  w.string(sd.name);
  w.tag(6, VARINT); // SpanKind + 1 (proto 0 = unspecified), never 0 here
  w.uint32(sd.kind + 1);
  w.tag(7, I64);
  writeTimeUs(w, sd.startUs);
  w.tag(8, I64);
  writeTimeUs(w, sd.endUs);
  writeAttributes(w, sd.attributes, 9);
  w.tag(10, VARINT);
  w.uint32(0);
  for (const ev of sd.events) {
    w.tag(11, LEN);
    const e = w.begin();
    w.tag(1, I64);
    writeTimeUs(w, ev.timeUs);
    w.tag(2, LEN);
    w.string(ev.name);
    writeAttributes(w, ev.attributes, 3);
    w.tag(4, VARINT);
    w.uint32(0);
    w.end(e);
  }
  w.tag(12, VARINT);
  w.uint32(0);
  w.tag(14, VARINT);
  w.uint32(0);
  w.tag(15, LEN);
  const st = w.begin();
  if (sd.status.message) {
    w.tag(2, LEN);
    w.string(sd.status.message);
  }
  w.tag(3, VARINT);
  w.uint32(sd.status.code);
  w.end(st);
  w.tag(16, I32);
  w.fixed32(SPAN_FLAGS);
}

/** Encodes requests of one resource and scope. */
export class OtlpProtoEncoder {
  /** The size of the last request (+12%): the next one's buffer is allocated once at that size. */
  private sizeHint = 1 << 16;
  private readonly head: Uint8Array;
  private readonly scope: Uint8Array;

  constructor(resourceAttributes: Attributes, scope: InstrumentationScope) {
    const w = new ProtoWriter(4096);
    // ResourceSpans.resource
    w.tag(1, LEN);
    const r = w.begin();
    writeAttributes(w, resourceAttributes, 1);
    w.tag(2, VARINT);
    w.uint32(0);
    w.end(r);
    this.head = w.bytes();
    w.reset();
    // ScopeSpans.scope
    w.tag(1, LEN);
    const s = w.begin();
    w.tag(1, LEN);
    w.string(scope.name);
    if (scope.version) {
      w.tag(2, LEN);
      w.string(scope.version);
    }
    w.end(s);
    this.scope = w.bytes();
  }

  encode(spans: readonly SpanData[]): Uint8Array {
    // a new buffer per request, returned without a copy: the exporter may hold it for retries
    const w = new ProtoWriter(this.sizeHint);
    if (spans.length > 0) {
      w.tag(1, LEN);
      const rs = w.begin(4); // requests are MBs: four length bytes
      w.raw(this.head);
      w.tag(2, LEN);
      const ss = w.begin(4);
      w.raw(this.scope);
      for (const sd of spans) {
        w.tag(2, LEN);
        const m = w.begin(2); // a span is 128 B … 16 KB: two length bytes, no move
        writeSpan(w, sd);
        w.end(m, 2);
      }
      w.end(ss, 4);
      w.end(rs, 4);
    }
    this.sizeHint = Math.max(1 << 16, Math.ceil(w.pos * 1.12));
    return w.finish();
  }
}
