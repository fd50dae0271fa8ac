/** An exporter for `exportTraces` that acknowledges every request and keeps its spans (tests, benchmarks). */
import { ExportResultCode } from '@opentelemetry/core';
import type { SpanDataExporter } from '../../src/otel/exporter.ts';
import type { SpanData } from '../../src/otel/mapping.ts';

export function captureExporter(): { exporter: SpanDataExporter; requests: SpanData[][] } {
  const requests: SpanData[][] = [];
  return {
    requests,
    exporter: {
      export: (spans, done) => {
        requests.push(spans);
        done({ code: ExportResultCode.SUCCESS });
      },
      shutdown: async () => {},
    },
  };
}
