/**
 * The hand-written OTLP encoders (src/otel/otlp-proto.ts, otlp-json.ts) against the SDK's own
 * serializers: for the golden fixture tree (with and without content) and for hand-made spans with
 * every attribute type, events, statuses and edge values, the bytes must be identical to
 * `ProtobufTraceSerializer` / `JsonTraceSerializer` of the same spans as SDK ReadableSpans.
 */
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportTraces } from '../src/otel/export.ts';
import type { SpanData } from '../src/otel/mapping.ts';
import { OtlpJsonEncoder } from '../src/otel/otlp-json.ts';
import { OtlpProtoEncoder } from '../src/otel/otlp-proto.ts';
import { buildResource } from '../src/otel/resource.ts';
import { SCOPE } from '../src/otel/spans.ts';
import type { Store } from '../src/store/db.ts';
import { deriveSpanRowsIfMissing } from '../src/store/derive/index.ts';
import { buildGoldenFixture, openTestStore, T0 } from './otel-fixtures.ts';
import { captureExporter } from './support/capture-exporter.ts';
import { decodeJson, decodeProtobuf, jsonSpanIds, protobufSpanIds } from './support/otlp-receiver.ts';
import { toReadableSpan } from './support/readable-span.ts';

const resource = buildResource({
  serviceName: 'encode-test',
  env: { OTEL_RESOURCE_ATTRIBUTES: 'team=ä,n=1' },
});
const proto = new OtlpProtoEncoder(resource.attributes, SCOPE);
const json = new OtlpJsonEncoder(resource.attributes, SCOPE);

function expectSameBytes(spans: SpanData[]): void {
  const sdk = spans.map((sd) => toReadableSpan(sd, resource));
  const sdkProto = ProtobufTraceSerializer.serializeRequest(sdk)!;
  const ours = proto.encode(spans);
  expect(Buffer.from(ours).toString('hex')).toBe(Buffer.from(sdkProto).toString('hex'));
  const sdkJson = new TextDecoder().decode(JsonTraceSerializer.serializeRequest(sdk));
  expect(new TextDecoder().decode(json.encode(spans))).toBe(sdkJson);
  // the benchmark receiver's ID-only readers agree with the receiver's full decoders
  const pb = Buffer.from(ours);
  const js = Buffer.from(sdkJson);
  const ids = spans.map((sd) => `${sd.traceId}/${sd.spanId}`);
  expect(protobufSpanIds(pb)).toEqual(ids);
  expect(decodeProtobuf(pb).map((sp) => `${sp.traceId}/${sp.spanId}`)).toEqual(ids);
  expect(jsonSpanIds(js)).toEqual(ids);
  expect(decodeJson(js).map((sp) => `${sp.traceId}/${sp.spanId}`)).toEqual(ids);
}

describe('hand-written OTLP encoding = the SDK serializers', () => {
  let store: Store;
  beforeAll(async () => {
    store = await openTestStore();
    await buildGoldenFixture(store);
  });
  afterAll(() => store.close());

  for (const captureContent of [false, true]) {
    it(`golden fixture tree${captureContent ? ' with content' : ''}`, async () => {
      const c = captureExporter();
      const r = await exportTraces(store.conn, {
        exporter: c.exporter,
        now: new Date(T0 + 25_000),
        force: true,
        captureContent,
        contentMaxChars: 10,
        batchSpans: 2,
      });
      expect(r.ok).toBe(true);
      expect(c.requests.length).toBeGreaterThan(1);
      const all = c.requests.flat();
      // the fixture exercises what the encoders must get right
      expect(all.some((s) => s.events.length > 0)).toBe(true);
      expect(all.some((s) => s.status.code === SpanStatusCode.ERROR && s.status.message)).toBe(true);
      expect(all.some((s) => s.parentSpanId)).toBe(true);
      const values = all.flatMap((s) => [
        ...Object.values(s.attributes),
        ...s.events.flatMap((e) => Object.values(e.attributes)),
      ]);
      expect(values.some((v) => typeof v === 'number' && !Number.isInteger(v))).toBe(true);
      expect(values.some((v) => typeof v === 'number' && Number.isInteger(v))).toBe(true);
      expect(values.some((v) => typeof v === 'boolean')).toBe(true);
      expect(values.some((v) => Array.isArray(v))).toBe(true);
      for (const spans of c.requests) expectSameBytes(spans);
      // reading on a second connection of the instance (as the CLI does) gives the same requests
      const c2 = captureExporter();
      const r2 = await exportTraces(store.conn, {
        instance: store.instance,
        exporter: c2.exporter,
        now: new Date(T0 + 25_000),
        force: true,
        captureContent,
        contentMaxChars: 10,
        batchSpans: 2,
        readSpans: 4,
      });
      expect(r2.spans).toBe(r.spans);
      expect(c2.requests).toEqual(c.requests);
    });
  }

  it('the span rows the derivation keeps (exchange_span_rows) give the same requests as computing them', async () => {
    const run = async (): Promise<{ requests: SpanData[][]; log: string[] }> => {
      const c = captureExporter();
      const log: string[] = [];
      const r = await exportTraces(store.conn, {
        instance: store.instance,
        exporter: c.exporter,
        now: new Date(T0 + 25_000),
        force: true,
        batchSpans: 2,
        readSpans: 4,
        log: (l) => log.push(l),
      });
      expect(r.ok).toBe(true);
      return { requests: c.requests, log };
    };
    // the fixture writes exchange_traces by hand, without the derivation: rows computed by the export
    const computed = await run();
    expect(computed.log.join('\n')).toContain('have no derived span rows');
    expect(await deriveSpanRowsIfMissing(store.conn)).toBeDefined();
    expect(await deriveSpanRowsIfMissing(store.conn)).toBeUndefined();
    const derived = await run();
    expect(derived.log.join('\n')).not.toContain('have no derived span rows');
    expect(derived.requests.flat().length).toBeGreaterThan(0);
    expect(derived.requests).toEqual(computed.requests);
    // rows of another format (an older version's) are not read, and are derived again
    await store.conn.run('UPDATE exchange_span_rows SET format = format - 1');
    expect((await run()).log.join('\n')).toContain('have no derived span rows');
    expect(await deriveSpanRowsIfMissing(store.conn)).toBeDefined();
    expect((await run()).requests).toEqual(computed.requests);
  });

  it('edge values: every attribute type, events, statuses, long and non-ASCII strings, times', () => {
    const long = 'x'.repeat(20_000);
    const spans: SpanData[] = [
      {
        traceId: '0123456789abcdef0123456789abcdef',
        spanId: '0123456789abcdef',
        name: 'root ✓',
        kind: SpanKind.INTERNAL,
        startUs: 1_764_859_998_768_001,
        endUs: 1_764_859_998_768_001,
        attributes: {
          s: 'plain',
          u: 'héllo 𝄞 \ud800 lone surrogate',
          empty: '',
          // what the JSON ID reader looks for, inside a value (escaped there, so not a key)
          lookalike: '{"traceId":"ffffffffffffffffffffffffffffffff","spanId":"ffffffffffffffff"}',
          spanId: 'eeeeeeeeeeeeeeee',
          t: true,
          f: false,
          zero: 0,
          neg: -5,
          big: 2 ** 40 + 7,
          huge: 2 ** 60,
          negBig: -(2 ** 45),
          dbl: 0.1 + 0.2,
          negDbl: -1.5e-7,
          arr: ['a', 'b'],
          // not a valid AttributeValue (arrays are homogeneous), but both encoders must agree on it
          mixed: [1, 2.5, true, 'z'] as unknown as string[],
          emptyArr: [],
          undef: undefined,
          long,
        },
        events: [],
        status: { code: SpanStatusCode.UNSET },
      },
      {
        traceId: 'ffffffffffffffffffffffffffffffff',
        spanId: 'fedcba9876543210',
        parentSpanId: '0123456789abcdef',
        name: 'chat gpt-5',
        kind: SpanKind.CLIENT,
        startUs: 1.5,
        endUs: 1_000_000,
        attributes: {},
        events: [
          { name: 'opencode.retry', timeUs: 1_700_000_000_000_000, attributes: { n: 1, e: 'rate_limit' } },
          { name: 'opencode.compaction', timeUs: 0, attributes: {} },
        ],
        status: { code: SpanStatusCode.ERROR, message: `boom ${long}` },
      },
      {
        traceId: '00000000000000000000000000000001',
        spanId: '0000000000000001',
        parentSpanId: 'fedcba9876543210',
        name: '',
        kind: SpanKind.SERVER,
        startUs: 2 ** 52,
        endUs: 2 ** 52 + 1,
        attributes: { ok: 'yes' },
        events: [],
        status: { code: SpanStatusCode.OK },
      },
    ];
    expectSameBytes(spans);
    expectSameBytes([]);
    expectSameBytes([spans[1]!]);
  });
});
