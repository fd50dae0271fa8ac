/**
 * The baseline `bench:export` compares with (run by it in a process of its own): the SAME spans sent
 * by the OpenTelemetry SDK's own OTLP exporters (`@opentelemetry/exporter-trace-otlp-proto` / `-http`:
 * SDK ReadableSpans through the SDK's serializers), 8192 spans per request and 2 requests in flight,
 * as `ocbridge export` paces its own. Only the export is timed: reading the store, mapping and building
 * the ReadableSpans happen before the clock starts, so the SDK gets the easier task.
 *
 * `node --import tsx bench/sdk-baseline.ts --db F --url URL --protocol http/protobuf|http/json`
 * prints one JSON line: `{ protocol, spans, seconds, spansPerSecond }`.
 */
import { parseArgs } from 'node:util';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { exportTraces } from '../src/otel/export.ts';
import { buildResource } from '../src/otel/resource.ts';
import { DUCKDB_BUDGETS } from '../src/resources.ts';
import { openStore } from '../src/store/db.ts';
import { captureExporter } from '../test/support/capture-exporter.ts';
import { toReadableSpan } from '../test/support/readable-span.ts';

const { values } = parseArgs({
  options: { db: { type: 'string' }, url: { type: 'string' }, protocol: { type: 'string' } },
});
if (!values.db || !values.url || !values.protocol) throw new Error('--db, --url and --protocol are required');

// the spans exportTraces would send, captured (the ledger rows it writes are removed again)
const store = await openStore(values.db, { threads: DUCKDB_BUDGETS.exportThreads });
const captured = captureExporter();
await exportTraces(store.conn, {
  instance: store.instance,
  force: true,
  idleTimeoutMs: 0,
  exporter: captured.exporter,
});
await store.conn.run("DELETE FROM export_ledger WHERE signal = 'traces'");
store.close();
const resource = buildResource({});
const requests: ReadableSpan[][] = captured.requests.map((b) => b.map((sd) => toReadableSpan(sd, resource)));
captured.requests.length = 0;
const spans = requests.reduce((n, r) => n + r.length, 0);

const url = `${values.url}/v1/traces`;
const exporter = values.protocol === 'http/json' ? new JsonExporter({ url }) : new ProtoExporter({ url });
const send = (r: ReadableSpan[]) =>
  new Promise<void>((resolve, reject) =>
    exporter.export(r, (res) =>
      res.code === ExportResultCode.SUCCESS ? resolve() : reject(res.error ?? new Error('export failed')),
    ),
  );
const t = performance.now();
const inflight = new Set<Promise<void>>();
for (const r of requests) {
  while (inflight.size >= 2) await Promise.race(inflight);
  const p: Promise<void> = send(r).finally(() => inflight.delete(p));
  inflight.add(p);
}
await Promise.all(inflight);
const seconds = (performance.now() - t) / 1000;
await exporter.shutdown();
console.log(
  JSON.stringify({
    protocol: values.protocol,
    spans,
    seconds: Number(seconds.toFixed(2)),
    spansPerSecond: Math.round(spans / seconds),
  }),
);
