/**
 * The OTLP/HTTP exporter (JSON or protobuf), configured by flags and the standard
 * `OTEL_EXPORTER_OTLP_*` variables, wrapped as a promise that says whether the collector acknowledged.
 */
import type { Attributes } from '@opentelemetry/api';
import { type ExportResult, ExportResultCode, type InstrumentationScope } from '@opentelemetry/core';
import { OTLPExporterBase } from '@opentelemetry/otlp-exporter-base';
import {
  convertLegacyHttpOptions,
  createOtlpHttpExportDelegate,
} from '@opentelemetry/otlp-exporter-base/node-http';
import {
  type IExporterMetricsHelper,
  JsonTraceSerializer,
  ProtobufTraceSerializer,
} from '@opentelemetry/otlp-transformer';
import { guardAgentFactory } from './guarded-agent.ts';
import type { SpanData } from './mapping.ts';
import { OtlpJsonEncoder } from './otlp-json.ts';
import { OtlpProtoEncoder } from './otlp-proto.ts';

export type OtlpProtocol = 'http/protobuf' | 'http/json';
export const PROTOCOLS: readonly OtlpProtocol[] = ['http/protobuf', 'http/json'];

export interface ExporterConfig {
  /** Flag; else OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, else OTEL_EXPORTER_OTLP_PROTOCOL, else http/protobuf. */
  protocol?: string;
  /** Flag; a base URL (`/v1/traces` is appended) or the full traces URL. Else the exporter reads
   *  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT / OTEL_EXPORTER_OTLP_ENDPOINT, else http://localhost:4318. */
  endpoint?: string;
  /** Extra headers (flags); OTEL_EXPORTER_OTLP_(TRACES_)HEADERS are read by the exporter too. */
  headers?: Record<string, string>;
  /** Per-request timeout; else OTEL_EXPORTER_OTLP_(TRACES_)TIMEOUT, else 30 s. */
  timeoutMillis?: number;
  env?: NodeJS.ProcessEnv;
}

export class UnsupportedProtocolError extends Error {}

export function resolveProtocol(
  flag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): OtlpProtocol {
  const p =
    flag ?? env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf';
  if (p === 'http/protobuf' || p === 'http/json') return p;
  throw new UnsupportedProtocolError(
    `OTLP protocol "${p}" is not supported: use http/protobuf or http/json (gRPC is not implemented)`,
  );
}

/** The traces URL: an explicit endpoint wins; a base URL gets `/v1/traces`. */
export function tracesUrl(endpoint: string | undefined): string | undefined {
  if (!endpoint) return undefined;
  const u = endpoint.replace(/\/+$/, '');
  return u.endsWith('/v1/traces') ? u : `${u}/v1/traces`;
}

/** The traces URL a flag or the standard environment variables name, if any. */
export function configuredUrl(cfg: ExporterConfig): string | undefined {
  const env = cfg.env ?? process.env;
  return (
    tracesUrl(cfg.endpoint) ??
    env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ??
    tracesUrl(env.OTEL_EXPORTER_OTLP_ENDPOINT)
  );
}

/** The URL the exporter will use, for logs and the ledger. */
export function effectiveUrl(cfg: ExporterConfig): string {
  return configuredUrl(cfg) ?? 'http://localhost:4318/v1/traces';
}

/** What exportTraces sends through: one `export` per request of mapped spans. */
export interface SpanDataExporter {
  export(spans: SpanData[], resultCallback: (result: ExportResult) => void): void;
  shutdown(): Promise<void>;
  /**
   * The collector's `partialSuccess` in the answer just reported as a success, taken once (the SDK
   * counts an answer that rejects spans as a success; its result callback follows the answer's
   * decoding in the same tick, so the last decoded answer is the one of that callback).
   */
  takeRejected?(): { spans: number; message: string } | undefined;
}

/** Reads the rejected-span count of an OTLP answer (`partialSuccess.rejectedSpans`: number, string or Long). */
function rejectedOf(response: unknown): { spans: number; message: string } | undefined {
  const p = (response as { partialSuccess?: { rejectedSpans?: unknown; errorMessage?: unknown } } | null)
    ?.partialSuccess;
  const spans = Number(p?.rejectedSpans ?? 0);
  return spans > 0 ? { spans, message: String(p?.errorMessage ?? '') } : undefined;
}

/** The resource and scope every request carries (the encoders write them once per request). */
export interface ExportIdentity {
  resourceAttributes: Attributes;
  scope: InstrumentationScope;
}

/** The exporter's self-metrics count spans (the SDK's TraceExporterMetricsHelper, for SpanData[]). */
const SPAN_COUNT: IExporterMetricsHelper<SpanData[]> = { name: 'span', countItems: (spans) => spans.length };

/**
 * The SDK's OTLP/HTTP exporter (transport, retries of 429/502/503/504 and network errors, headers,
 * timeouts, compression, `OTEL_EXPORTER_OTLP_*`), built the way `@opentelemetry/exporter-trace-otlp-proto`
 * and `-http` build theirs, but with our own serializer: `SpanData[]` straight to bytes
 * (otlp-proto.ts, otlp-json.ts), skipping the SDK ReadableSpan and its object-heavy serializer.
 */
export function createOtlpExporter(cfg: ExporterConfig, identity: ExportIdentity): SpanDataExporter {
  const protocol = resolveProtocol(cfg.protocol, cfg.env);
  const options = {
    url: tracesUrl(cfg.endpoint),
    headers: cfg.headers,
    timeoutMillis: cfg.timeoutMillis,
    // The ledger paces the export (a few requests in flight); never let the exporter refuse one.
    concurrencyLimit: 64,
  };
  const json = protocol === 'http/json';
  const encoder = json
    ? new OtlpJsonEncoder(identity.resourceAttributes, identity.scope)
    : new OtlpProtoEncoder(identity.resourceAttributes, identity.scope);
  const deserialize = json
    ? JsonTraceSerializer.deserializeResponse
    : ProtobufTraceSerializer.deserializeResponse;
  let rejected: { spans: number; message: string } | undefined;
  const serializer = {
    serializeRequest: (spans: SpanData[]) => encoder.encode(spans),
    deserializeResponse: (data: Uint8Array) => {
      const response = deserialize(data);
      rejected = rejectedOf(response);
      return response;
    },
  };
  const http = convertLegacyHttpOptions(options, 'TRACES', 'v1/traces', {
    'Content-Type': json ? 'application/json' : 'application/x-protobuf',
  });
  // the agents the configuration makes (keep-alive; TLS from OTEL_EXPORTER_OTLP_CERTIFICATE …), guarded
  http.agentFactory = guardAgentFactory(http.agentFactory);
  const delegate = createOtlpHttpExportDelegate(
    http,
    serializer,
    'otlp_http_span_exporter', // OTEL_COMPONENT_TYPE_VALUE_OTLP_HTTP_SPAN_EXPORTER
    SPAN_COUNT,
    undefined,
  );
  const base = new OTLPExporterBase<SpanData[]>(delegate);
  return {
    export: (spans, cb) => base.export(spans, cb),
    shutdown: () => base.shutdown(),
    takeRejected: () => {
      const r = rejected;
      rejected = undefined;
      return r;
    },
  };
}

export interface SendResult {
  ok: boolean;
  error?: string;
  /** A 4xx other than 408/429: sending the same batch again will not help. */
  permanent?: boolean;
}

function describe(e: unknown): { message: string; permanent: boolean } {
  if (!e) return { message: 'export failed', permanent: false };
  const err = e as { message?: string; code?: number; data?: string };
  const code = typeof err.code === 'number' ? err.code : undefined;
  const permanent = code !== undefined && code >= 400 && code < 500 && code !== 408 && code !== 429;
  const detail = err.data ? `: ${String(err.data).slice(0, 300)}` : '';
  return { message: `${err.message ?? String(e)}${code ? ` (HTTP ${code})` : ''}${detail}`, permanent };
}

/** One export request; resolves (never rejects) with whether the collector acknowledged it. */
export function send(exporter: SpanDataExporter, spans: SpanData[]): Promise<SendResult> {
  return new Promise((resolve) => {
    try {
      exporter.export(spans, (r) => {
        const rejected = r.code === ExportResultCode.SUCCESS ? exporter.takeRejected?.() : undefined;
        // spans the collector rejected are not exported: the request stays pending, and is sent again
        if (rejected)
          resolve({
            ok: false,
            error: `the collector rejected ${rejected.spans} of ${spans.length} spans (partialSuccess)${rejected.message ? `: ${rejected.message}` : ''}`,
            permanent: false,
          });
        else if (r.code === ExportResultCode.SUCCESS) resolve({ ok: true });
        else {
          const d = describe(r.error);
          resolve({ ok: false, error: d.message, permanent: d.permanent });
        }
      });
    } catch (e) {
      resolve({ ok: false, error: (e as Error).message, permanent: false });
    }
  });
}
