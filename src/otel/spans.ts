/**
 * What every encoded span shares: the instrumentation scope and the epoch-µs → [seconds, nanoseconds]
 * split (the SDK's HrTime) that the OTLP encoders (otlp-proto.ts, otlp-json.ts) write times from.
 */
import type { HrTime } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import { VERSION } from '../version.ts';
import { INSTRUMENTATION_SCOPE_NAME } from './semconv.ts';

export const SCOPE: InstrumentationScope = { name: INSTRUMENTATION_SCOPE_NAME, version: VERSION };

/** Epoch microseconds → HrTime [seconds, nanoseconds]. */
export function hrTime(us: number): HrTime {
  const s = Math.floor(us / 1e6);
  return [s, Math.round((us - s * 1e6) * 1000)];
}
