/** SpanData → SDK ReadableSpan, built directly (no tracer, no span processor, no queue to overflow). */
import { type HrTime, type SpanContext, TraceFlags } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace-base';
import { VERSION } from '../cli/version.ts';
import type { SpanData } from './mapping.ts';
import { INSTRUMENTATION_SCOPE_NAME } from './semconv.ts';

export const SCOPE: InstrumentationScope = { name: INSTRUMENTATION_SCOPE_NAME, version: VERSION };

/** Epoch microseconds → HrTime [seconds, nanoseconds]. */
export function hrTime(us: number): HrTime {
  const s = Math.floor(us / 1e6);
  return [s, Math.round((us - s * 1e6) * 1000)];
}

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
