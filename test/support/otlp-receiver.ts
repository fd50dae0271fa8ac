/**
 * An OTLP/HTTP trace receiver for tests and the export benchmark: JSON and protobuf on POST /v1/traces
 * (adapted from ../shared/reference/observability-tooling.md §2). Protobuf is decoded by a small wire
 * decoder of the trace.proto subset below (protobufjs is not in the tree: the 0.223 proto exporter
 * ships its own encoder), which also keeps the check independent of the exporter's serializer.
 *
 * A span counts as received only when its request was acknowledged (the 200 response was written):
 * requests the receiver fails on purpose, or whose client vanished before the answer, are counted
 * under `refused` — like a collector that never accepted them.
 *
 * `node --import tsx test/support/otlp-receiver.ts [--ids-only]` runs it standalone and prints its URL;
 * GET /stats answers the counts (used by bench/export.ts to keep the receiver on its own core).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type AttrValue = string | number | boolean | null | AttrValue[] | { [k: string]: AttrValue };

export interface ReceivedEvent {
  name: string;
  timeNs: string;
  attributes: Record<string, AttrValue>;
}

export interface ReceivedSpan {
  encoding: 'json' | 'protobuf';
  service: string | undefined;
  resource: Record<string, AttrValue>;
  scope: string | undefined;
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  /** OTLP span kind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  startNs: string;
  endNs: string;
  attributes: Record<string, AttrValue>;
  events: ReceivedEvent[];
  status: { code: number; message?: string };
}

// --- protobuf wire decoding -------------------------------------------------------------------

class Reader {
  pos = 0;
  constructor(
    readonly buf: Buffer,
    readonly end = buf.length,
  ) {}
  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
  }
  /** Fields of the message between pos and end: [field number, wire type, value reader]. */
  *fields(): Generator<[number, number, Reader | bigint | Buffer]> {
    while (this.pos < this.end) {
      const tag = Number(this.varint());
      const field = tag >>> 3;
      const wire = tag & 7;
      if (wire === 0) yield [field, wire, this.varint()];
      else if (wire === 1) {
        const v = this.buf.subarray(this.pos, this.pos + 8);
        this.pos += 8;
        yield [field, wire, v];
      } else if (wire === 5) {
        const v = this.buf.subarray(this.pos, this.pos + 4);
        this.pos += 4;
        yield [field, wire, v];
      } else if (wire === 2) {
        const len = Number(this.varint());
        const sub = new Reader(this.buf, this.pos + len);
        sub.pos = this.pos;
        this.pos += len;
        yield [field, wire, sub];
      } else throw new Error(`unsupported wire type ${wire}`);
    }
  }
  bytes(): Buffer {
    return this.buf.subarray(this.pos, this.end);
  }
  string(): string {
    return this.buf.toString('utf8', this.pos, this.end);
  }
}

function pbAnyValue(r: Reader): AttrValue {
  let v: AttrValue = null;
  for (const [f, , x] of r.fields()) {
    if (f === 1) v = (x as Reader).string();
    else if (f === 2) v = (x as bigint) !== 0n;
    else if (f === 3) v = Number(BigInt.asIntN(64, x as bigint));
    else if (f === 4) v = (x as Buffer).readDoubleLE(0);
    else if (f === 5) {
      const arr: AttrValue[] = [];
      for (const [g, , y] of (x as Reader).fields()) if (g === 1) arr.push(pbAnyValue(y as Reader));
      v = arr;
    } else if (f === 6) v = pbKeyValues(x as Reader, 1);
    else if (f === 7) v = (x as Reader).bytes().toString('hex');
  }
  return v;
}

function pbKeyValue(r: Reader): [string, AttrValue] {
  let key = '';
  let value: AttrValue = null;
  for (const [f, , x] of r.fields()) {
    if (f === 1) key = (x as Reader).string();
    else if (f === 2) value = pbAnyValue(x as Reader);
  }
  return [key, value];
}

/** All repeated KeyValue fields numbered `field` of a message. */
function pbKeyValues(r: Reader, field: number): Record<string, AttrValue> {
  const o: Record<string, AttrValue> = {};
  for (const [f, , x] of r.fields()) {
    if (f !== field) continue;
    const [k, v] = pbKeyValue(x as Reader);
    o[k] = v;
  }
  return o;
}

const fixed64 = (b: Buffer) => b.readBigUInt64LE(0).toString();

function pbSpan(r: Reader): Omit<ReceivedSpan, 'encoding' | 'service' | 'resource' | 'scope'> {
  const s: Omit<ReceivedSpan, 'encoding' | 'service' | 'resource' | 'scope'> = {
    traceId: '',
    spanId: '',
    parentSpanId: undefined,
    name: '',
    kind: 0,
    startNs: '0',
    endNs: '0',
    attributes: {},
    events: [],
    status: { code: 0 },
  };
  for (const [f, , x] of r.fields()) {
    switch (f) {
      case 1:
        s.traceId = (x as Reader).bytes().toString('hex');
        break;
      case 2:
        s.spanId = (x as Reader).bytes().toString('hex');
        break;
      case 4: {
        const p = (x as Reader).bytes().toString('hex');
        s.parentSpanId = p || undefined;
        break;
      }
      case 5:
        s.name = (x as Reader).string();
        break;
      case 6:
        s.kind = Number(x as bigint);
        break;
      case 7:
        s.startNs = fixed64(x as Buffer);
        break;
      case 8:
        s.endNs = fixed64(x as Buffer);
        break;
      case 9: {
        const [k, v] = pbKeyValue(x as Reader);
        s.attributes[k] = v;
        break;
      }
      case 11: {
        const ev: ReceivedEvent = { name: '', timeNs: '0', attributes: {} };
        for (const [g, , y] of (x as Reader).fields()) {
          if (g === 1) ev.timeNs = fixed64(y as Buffer);
          else if (g === 2) ev.name = (y as Reader).string();
          else if (g === 3) {
            const [k, v] = pbKeyValue(y as Reader);
            ev.attributes[k] = v;
          }
        }
        s.events.push(ev);
        break;
      }
      case 15:
        for (const [g, , y] of (x as Reader).fields()) {
          if (g === 2) s.status.message = (y as Reader).string();
          else if (g === 3) s.status.code = Number(y as bigint);
        }
        break;
    }
  }
  return s;
}

export function decodeProtobuf(body: Buffer): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (const [f, , rs] of new Reader(body).fields()) {
    if (f !== 1) continue;
    let resource: Record<string, AttrValue> = {};
    const scopes: Reader[] = [];
    for (const [g, , x] of (rs as Reader).fields()) {
      if (g === 1) resource = pbKeyValues(x as Reader, 1);
      else if (g === 2) scopes.push(x as Reader);
    }
    for (const ss of scopes) {
      let scope: string | undefined;
      const spans: Reader[] = [];
      for (const [g, , x] of ss.fields()) {
        if (g === 1)
          for (const [h, , y] of (x as Reader).fields()) if (h === 1) scope = (y as Reader).string();
        if (g === 2) spans.push(x as Reader);
      }
      for (const sp of spans) {
        out.push({
          encoding: 'protobuf',
          service: resource['service.name'] as string | undefined,
          resource,
          scope,
          ...pbSpan(sp),
        });
      }
    }
  }
  return out;
}

/**
 * Only the `traceId/spanId` of every span of a protobuf request (the benchmark's receiver): walks the
 * wire format with plain numbers and skips every other field, so the receiver, which shares the
 * machine's cores with the exporter being measured, does not decode attributes nobody reads.
 */
export function protobufSpanIds(body: Buffer): string[] {
  const out: string[] = [];
  let pos = 0;
  const varint = (): number => {
    let v = 0;
    let mul = 1;
    for (;;) {
      const b = body[pos++] as number;
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 128;
    }
  };
  const skip = (wire: number) => {
    if (wire === 0) varint();
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) pos += varint();
    else throw new Error(`unsupported wire type ${wire}`);
  };
  /**
   * Calls `fn(field, end)` for every length-delimited field between pos and `end`, skips the rest;
   * stops early when `fn` returns false.
   */
  const each = (end: number, fn: (field: number, end: number) => boolean | undefined) => {
    while (pos < end) {
      const tag = varint();
      if ((tag & 7) !== 2) {
        skip(tag & 7);
        continue;
      }
      const len = varint();
      const stop = pos + len;
      const more = fn(tag >>> 3, stop);
      pos = stop;
      if (more === false) return;
    }
  };
  each(body.length, (f1, e1) => {
    if (f1 !== 1) return; // resource_spans
    each(e1, (f2, e2) => {
      if (f2 !== 2) return; // scope_spans
      each(e2, (f3, e3) => {
        if (f3 !== 2) return; // spans
        // only up to the two IDs (fields 1 and 2, first in every span we send): the rest of the span
        // is skipped by its length. Walking every attribute cost this receiver ~1 s of CPU per 100K
        // spans in bench:export, on the two cores the exporter is measured on.
        let trace = '';
        let span = '';
        each(e3, (f4, e4) => {
          if (f4 === 1) trace = body.toString('hex', pos, e4);
          else if (f4 === 2) span = body.toString('hex', pos, e4);
          return trace === '' || span === '';
        });
        out.push(`${trace}/${span}`);
      });
    });
  });
  return out;
}

const TRACE_KEY = Buffer.from('"traceId":"');
const SPAN_KEY = Buffer.from('"spanId":"');
const HEX_ID = /^[0-9a-f]+$/;

/**
 * Only the `traceId/spanId` of every span of a JSON request (the benchmark's receiver): finds each
 * span's `"traceId":"` and the `"spanId":"` after it in the bytes, without parsing the request, for
 * the same reason as `protobufSpanIds` (a full `JSON.parse` of ~9 MB requests took ~3.3 s of CPU per
 * full-scale export, on the cores the exporter being measured runs on). Safe on these requests: inside
 * a JSON string a quote is escaped, so `"spanId":"` only ever starts a key, and `"parentSpanId"` does
 * not contain it. The IDs must be lowercase hex of their length, or the request is refused.
 */
export function jsonSpanIds(body: Buffer): string[] {
  const out: string[] = [];
  let pos = 0;
  for (;;) {
    const t = body.indexOf(TRACE_KEY, pos);
    if (t < 0) break;
    const tStart = t + TRACE_KEY.length;
    const s = body.indexOf(SPAN_KEY, tStart);
    if (s < 0) throw new Error('a traceId without a spanId');
    const sStart = s + SPAN_KEY.length;
    const trace = body.toString('latin1', tStart, tStart + 32);
    const span = body.toString('latin1', sStart, sStart + 16);
    if (body[tStart + 32] !== 0x22 || body[sStart + 16] !== 0x22 || !HEX_ID.test(trace) || !HEX_ID.test(span))
      throw new Error(`not a span ID pair: ${trace}/${span}`);
    out.push(`${trace}/${span}`);
    pos = sStart + 17;
  }
  return out;
}

// --- JSON ---------------------------------------------------------------------------------------

interface JsonAny {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
  arrayValue?: { values?: JsonAny[] };
  kvlistValue?: { values?: JsonKv[] };
  bytesValue?: string;
}
interface JsonKv {
  key: string;
  value?: JsonAny;
}

function jsonAny(v: JsonAny | undefined): AttrValue {
  if (!v) return null;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return Number(v.doubleValue);
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(jsonAny);
  if (v.kvlistValue) return jsonKvs(v.kvlistValue.values);
  if (v.bytesValue !== undefined) return v.bytesValue;
  return null;
}

const jsonKvs = (kvs: JsonKv[] | undefined): Record<string, AttrValue> =>
  Object.fromEntries((kvs ?? []).map((a) => [a.key, jsonAny(a.value)]));

interface JsonSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string | number;
  endTimeUnixNano: string | number;
  attributes?: JsonKv[];
  events?: { name: string; timeUnixNano: string | number; attributes?: JsonKv[] }[];
  status?: { code?: number; message?: string };
}

export function decodeJson(body: Buffer): ReceivedSpan[] {
  const req = JSON.parse(body.toString('utf8')) as {
    resourceSpans?: {
      resource?: { attributes?: JsonKv[] };
      scopeSpans?: { scope?: { name?: string }; spans?: JsonSpan[] }[];
    }[];
  };
  const out: ReceivedSpan[] = [];
  for (const rs of req.resourceSpans ?? []) {
    const resource = jsonKvs(rs.resource?.attributes);
    for (const ss of rs.scopeSpans ?? [])
      for (const s of ss.spans ?? [])
        out.push({
          encoding: 'json',
          service: resource['service.name'] as string | undefined,
          resource,
          scope: ss.scope?.name,
          traceId: s.traceId,
          spanId: s.spanId,
          parentSpanId: s.parentSpanId || undefined,
          name: s.name,
          kind: s.kind,
          startNs: String(s.startTimeUnixNano),
          endNs: String(s.endTimeUnixNano),
          attributes: jsonKvs(s.attributes),
          events: (s.events ?? []).map((e) => ({
            name: e.name,
            timeNs: String(e.timeUnixNano),
            attributes: jsonKvs(e.attributes),
          })),
          status: { code: s.status?.code ?? 0, ...(s.status?.message ? { message: s.status.message } : {}) },
        });
  }
  return out;
}

// --- the server ---------------------------------------------------------------------------------

export interface ReceiverStats {
  requests: number;
  acknowledged: number;
  refused: number;
  spans: number;
  uniqueSpans: number;
  duplicateSpans: number;
  bytes: number;
}

export interface OtlpReceiver {
  url: string;
  /** Acknowledged spans, in arrival order (empty with `idsOnly`). */
  spans: ReceivedSpan[];
  stats(): ReceiverStats;
  /** Answer the next `n` requests with this HTTP status instead of accepting them. */
  failNext(n: number, status?: number): void;
  /** Called for every request before it is answered; may delay the answer (e.g. to kill the client). */
  onRequest?: (n: number) => Promise<void> | void;
  close(): Promise<void>;
}

export interface ReceiverOptions {
  port?: number;
  /** Count span IDs only, keep no span objects (the benchmark). */
  idsOnly?: boolean;
}

export async function startOtlpReceiver(opts: ReceiverOptions = {}): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const ids = new Set<string>();
  let spanCount = 0;
  let requests = 0;
  let acknowledged = 0;
  let refused = 0;
  let bytes = 0;
  let failing = 0;
  let failStatus = 503;
  const stats = (): ReceiverStats => ({
    requests,
    acknowledged,
    refused,
    spans: spanCount,
    uniqueSpans: ids.size,
    duplicateSpans: spanCount - ids.size,
    bytes,
  });
  const rx: OtlpReceiver = {
    url: '',
    spans,
    stats,
    failNext(n, status = 503) {
      failing = n;
      failStatus = status;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        if (req.method === 'GET' && req.url === '/stats') {
          res.writeHead(200, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify(stats()));
          return;
        }
        if (req.method !== 'POST' || req.url !== '/v1/traces') {
          res.writeHead(404);
          res.end();
          return;
        }
        const n = ++requests;
        const body = Buffer.concat(chunks);
        bytes += body.length;
        if (rx.onRequest) await rx.onRequest(n);
        if (failing > 0) {
          failing--;
          refused++;
          res.writeHead(failStatus, { 'Content-Type': 'text/plain' });
          res.end('unavailable (test)');
          return;
        }
        const ct = req.headers['content-type'] ?? '';
        let decoded: ReceivedSpan[] = [];
        let idsOf: string[] = [];
        try {
          const json = ct.startsWith('application/json');
          if (!json && !ct.startsWith('application/x-protobuf')) {
            refused++;
            res.writeHead(415);
            res.end();
            return;
          }
          if (opts.idsOnly) idsOf = json ? jsonSpanIds(body) : protobufSpanIds(body);
          else {
            decoded = json ? decodeJson(body) : decodeProtobuf(body);
            idsOf = decoded.map((sp) => `${sp.traceId}/${sp.spanId}`);
          }
        } catch (e) {
          refused++;
          res.writeHead(400);
          res.end(String(e));
          return;
        }
        if (res.destroyed || req.socket.destroyed) {
          refused++; // the client is gone: it never got an acknowledgement
          return;
        }
        const json = ct.startsWith('application/json');
        res.writeHead(200, { 'Content-Type': json ? 'application/json' : 'application/x-protobuf' });
        res.end(json ? '{}' : undefined, () => {
          acknowledged++;
          spanCount += idsOf.length;
          for (const id of idsOf) ids.add(id);
          for (const sp of decoded) spans.push(sp);
        });
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  rx.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return rx;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, '/'))) {
  const rx = await startOtlpReceiver({ idsOnly: process.argv.includes('--ids-only') });
  process.stdout.write(`${rx.url}\n`);
}
