/**
 * The standard OpenTelemetry switches (docs/otel.md "Switches"), read once from the environment:
 * `OTEL_SDK_DISABLED`, `OTEL_TRACES_EXPORTER` (otlp | none), `OTEL_METRICS_EXPORTER` (prometheus | otlp |
 * none, comma lists), `OTEL_METRIC_EXPORT_INTERVAL` / `_TIMEOUT`. The per-request
 * `OTEL_EXPORTER_OTLP_(TRACES_|METRICS_)TIMEOUT` are read by the SDK's exporters themselves.
 * A value the bridge cannot honour is an error that names it, never silently ignored.
 */

export class OtelSwitchError extends Error {}

export interface OtelSwitches {
  /** `OTEL_SDK_DISABLED=true`: no telemetry leaves the bridge (no traces, no metrics on /metrics or OTLP). */
  sdkDisabled: boolean;
  /** `OTEL_TRACES_EXPORTER`: `otlp`, `none`, or unset (then traces go out when an endpoint is configured). */
  traces: 'otlp' | 'none' | undefined;
  /** `OTEL_METRICS_EXPORTER`: which metric exporters run; unset: Prometheus, plus OTLP when a flag asks. */
  metrics: { prometheus: boolean; otlp: boolean } | undefined;
  /** `OTEL_METRIC_EXPORT_INTERVAL` (ms, default 60000) and `OTEL_METRIC_EXPORT_TIMEOUT` (ms, default 30000). */
  metricIntervalMs: number;
  metricTimeoutMs: number;
}

function list(env: NodeJS.ProcessEnv, name: string, allowed: readonly string[]): Set<string> | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  const values = new Set(
    raw
      .split(',')
      .map((v) => v.trim().toLowerCase())
      .filter((v) => v !== ''),
  );
  for (const v of values)
    if (!allowed.includes(v))
      throw new OtelSwitchError(`${name}="${raw}": "${v}" is not supported (use ${allowed.join(', ')})`);
  if (values.has('none') && values.size > 1)
    throw new OtelSwitchError(`${name}="${raw}": "none" cannot be combined with other exporters`);
  return values;
}

function millis(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0)
    throw new OtelSwitchError(`${name}="${raw}": expected milliseconds > 0`);
  return n;
}

export function readOtelSwitches(env: NodeJS.ProcessEnv = process.env): OtelSwitches {
  const sdkDisabled = env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true';
  const t = list(env, 'OTEL_TRACES_EXPORTER', ['otlp', 'none']);
  const m = list(env, 'OTEL_METRICS_EXPORTER', ['prometheus', 'otlp', 'none']);
  const metricIntervalMs = millis(env, 'OTEL_METRIC_EXPORT_INTERVAL', 60_000);
  return {
    sdkDisabled,
    traces: sdkDisabled ? 'none' : t ? (t.has('otlp') ? 'otlp' : 'none') : undefined,
    metrics: sdkDisabled
      ? { prometheus: false, otlp: false }
      : m && { prometheus: m.has('prometheus'), otlp: m.has('otlp') },
    metricIntervalMs,
    // the SDK requires timeout ≤ interval
    metricTimeoutMs: Math.min(millis(env, 'OTEL_METRIC_EXPORT_TIMEOUT', 30_000), metricIntervalMs),
  };
}

/** Whether `ocbridge run` exports traces: not switched off, and an endpoint is configured or `otlp` asked for. */
export function tracesOn(s: OtelSwitches, flagOn: boolean, endpointConfigured: boolean): boolean {
  if (!flagOn || s.traces === 'none') return false;
  return s.traces === 'otlp' || endpointConfigured;
}

/** Which metric exporters `ocbridge run` starts: the switches, else Prometheus plus OTLP when `--metrics-otlp-endpoint` is set. */
export function metricExporters(s: OtelSwitches, otlpFlag: boolean): { prometheus: boolean; otlp: boolean } {
  return s.metrics ?? { prometheus: true, otlp: otlpFlag };
}

/** Why nothing is exported, for a log line; undefined when traces may go out. */
export function tracesOffReason(s: OtelSwitches): string | undefined {
  if (s.sdkDisabled) return 'OTEL_SDK_DISABLED=true';
  if (s.traces === 'none') return 'OTEL_TRACES_EXPORTER=none';
  return undefined;
}
