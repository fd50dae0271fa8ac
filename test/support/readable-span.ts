/**
 * SpanData → SDK ReadableSpan, built directly: the reference the hand-written OTLP encoders are
 * compared with (test/otel-encode.test.ts feeds these to the SDK's own serializers).
 */
import { type SpanContext, TraceFlags } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace-base';
import type { SpanData } from '../../src/otel/mapping.ts';
import { hrTime, SCOPE } from '../../src/otel/spans.ts';

export function toReadableSpan(
  sd: SpanData,
  resource: Resource,
  scope: InstrumentationScope = SCOPE,
): ReadableSpan {
  const ctx: SpanContext = { traceId: sd.traceId, spanId: sd.spanId, traceFlags: TraceFlags.SAMPLED };
  const parent: SpanContext | undefined = sd.parentSpanId
    ? { traceId: sd.traceId, spanId: sd.parentSpanId, traceFlags: TraceFlags.SAMPLED }
    : undefined;
  const events: TimedEvent[] = sd.events.map((e) => ({
    name: e.name,
    time: hrTime(e.timeUs),
    attributes: e.attributes,
  }));
  return {
    name: sd.name,
    kind: sd.kind,
    spanContext: () => ctx,
    parentSpanContext: parent,
    startTime: hrTime(sd.startUs),
    endTime: hrTime(sd.endUs),
    duration: hrTime(sd.endUs - sd.startUs),
    status: sd.status,
    attributes: sd.attributes,
    links: [],
    events,
    ended: true,
    resource,
    instrumentationScope: scope,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}
