/**
 * `exportTraces`: everything pending in the ledger, to an OTLP collector, exactly once.
 *
 * Paced by the ledger, not by a queue: a batch (whole exchanges, ~`batchSpans` spans) is read from
 * DuckDB, mapped, sent with `exporter.export()`, and its exchanges are marked exported only when the
 * collector acknowledged it. At most `inflight` batches are outstanding, so memory stays bounded and
 * the exporter's concurrency limit is never hit. When the collector is down or slow, a batch is
 * retried with exponential backoff; the backlog stays in DuckDB and is logged. If the collector never
 * acknowledges within `maxRetryMs`, the export stops with `ok: false` and the reason.
 */
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import {
  createOtlpExporter,
  type ExporterConfig,
  effectiveUrl,
  resolveProtocol,
  type SpanDataExporter,
  send,
} from './exporter.ts';
import {
  assertTraceTables,
  computePending,
  ledgerStats,
  markAttempt,
  markExported,
  markFailed,
} from './ledger.ts';
import { buildContentIndex, mapRows, type SpanData } from './mapping.ts';
import { buildResource } from './resource.ts';
import {
  type ContentRow,
  copyPending,
  pendingWithoutSpanRows,
  readBatchContent,
  readPackedRows,
  unpackRows,
} from './source.ts';
import { SCOPE } from './spans.ts';

export interface ExportTracesOptions extends ExporterConfig {
  serviceName?: string;
  /** Export prompts, outputs and tool arguments/results (truncated). Off by default. */
  captureContent?: boolean;
  contentMaxChars?: number;
  since?: Date;
  force?: boolean;
  /** An in-progress exchange is complete after this much idle time (default 30 min). */
  idleTimeoutMs?: number;
  /** Spans per request (default 8192). */
  batchSpans?: number;
  /** Spans whose rows are read from the raw tables by one query (default 32768: four requests). */
  readSpans?: number;
  /** Requests in flight (default 2). */
  inflight?: number;
  /** Give up when the collector has not acknowledged a batch for this long (default 120 s). */
  maxRetryMs?: number;
  /** First backoff delay (default 1 s), doubled up to `maxBackoffMs` (default 30 s). */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /**
   * The database `conn` belongs to: span rows are then read on a second connection of it, so the
   * ledger writes on `conn` never wait behind a read, and DuckDB reads the next batch while this one
   * is encoded and sent. Without it everything runs on `conn`.
   */
  instance?: DuckDBInstance;
  /** Use this exporter instead of building one (tests, benchmarks). Not shut down by exportTraces. */
  exporter?: SpanDataExporter;
  /** Read and map the spans; encode, send and write to the ledger nothing. */
  dryRun?: boolean;
  now?: Date;
  signal?: AbortSignal;
  log?: (line: string) => void;
  onProgress?: (p: ExportProgress) => void;
}

export interface ExportProgress {
  exportedSpans: number;
  totalSpans: number;
  exportedExchanges: number;
  totalExchanges: number;
}

export interface ExportTracesResult {
  ok: boolean;
  /** Why the export stopped early (collector never acknowledged, rejected, or interrupted). */
  reason?: string;
  url: string;
  protocol: string;
  exchanges: number;
  spans: number;
  batches: number;
  requests: number;
  failedRequests: number;
  /** Pending when the run started. */
  pendingExchanges: number;
  pendingSpans: number;
  /** Still pending when the run ended (the backlog in the ledger). */
  backlogExchanges: number;
  backlogSpans: number;
  seconds: number;
  /** Time the loop waited for DuckDB rows and spent mapping them (encoding happens when a batch is sent). */
  buildSeconds: number;
  peakRssMb: number;
}

/** Serialises DuckDB calls on one connection. */
function serial() {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T>): Promise<T> => {
    const next = tail.then(fn, fn);
    tail = next.catch(() => undefined);
    return next;
  };
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });

export async function exportTraces(
  conn: DuckDBConnection,
  o: ExportTracesOptions = {},
): Promise<ExportTracesResult> {
  const t0 = performance.now();
  const log = o.log ?? (() => {});
  const protocol = o.exporter ? (o.protocol ?? 'custom') : resolveProtocol(o.protocol, o.env);
  const url = effectiveUrl(o);
  await assertTraceTables(conn);
  const pending = await computePending(conn, {
    idleTimeoutMs: o.idleTimeoutMs ?? 30 * 60_000,
    since: o.since,
    force: o.force,
    batchSpans: o.batchSpans ?? 8192,
    now: o.now,
  });
  let buildMs = 0;
  // batches whose rows are read by one query (see readPackedRows)
  const perRead = Math.max(1, Math.floor((o.readSpans ?? 32_768) / (o.batchSpans ?? 8192)));
  const prior = o.dryRun ? undefined : await ledgerStats(conn);
  log(
    `backlog: ${pending.exchanges} exchanges, ${pending.spans} spans in ${pending.batches.length} requests → ${url} (${protocol})`,
  );
  // the derived span rows, unless a pending exchange has none (a store derived by an older version)
  const underived = pending.exchanges > 0 ? await pendingWithoutSpanRows(conn) : 0;
  if (underived > 0)
    log(
      `${underived} pending exchanges have no derived span rows (a store derived by an older version): computing them from the raw tables, which is slower; the next \`ocbridge ingest\` derives them`,
    );
  if (prior && prior.pending > 0)
    log(
      `${prior.pending} exchanges were sent before without an acknowledgement; they are sent again with the same trace and span IDs`,
    );

  const resource = buildResource({ serviceName: o.serviceName, env: o.env });
  const exporter = o.dryRun
    ? undefined
    : (o.exporter ?? createOtlpExporter(o, { resourceAttributes: resource.attributes, scope: SCOPE }));
  const db = serial();
  const maxInflight = Math.max(1, o.inflight ?? 2);
  const maxRetryMs = o.maxRetryMs ?? 120_000;
  const initialBackoff = o.initialBackoffMs ?? 1000;
  const maxBackoff = o.maxBackoffMs ?? 30_000;

  let exportedSpans = 0;
  let exportedExchanges = 0;
  let requests = 0;
  let failedRequests = 0;
  let peakRss = process.memoryUsage.rss();
  let aborted: string | undefined;
  let lastProgressLog = performance.now();

  const deliver = async (batchNo: number, spans: SpanData[], exchanges: number): Promise<void> => {
    let firstFailure: number | undefined;
    let delay = initialBackoff;
    for (;;) {
      if (aborted) return;
      await db(() => markAttempt(conn, batchNo, url));
      requests++;
      const r = await send(exporter!, spans);
      if (r.ok) {
        await db(() => markExported(conn, batchNo));
        exportedSpans += spans.length;
        exportedExchanges += exchanges;
        o.onProgress?.({
          exportedSpans,
          totalSpans: pending.spans,
          exportedExchanges,
          totalExchanges: pending.exchanges,
        });
        if (performance.now() - lastProgressLog > 5000) {
          lastProgressLog = performance.now();
          log(
            `exported ${exportedSpans}/${pending.spans} spans; backlog ${pending.spans - exportedSpans} spans`,
          );
        }
        return;
      }
      failedRequests++;
      const error = r.error ?? 'export failed';
      await db(() => markFailed(conn, batchNo, error));
      firstFailure ??= performance.now();
      const waited = performance.now() - firstFailure;
      const backlog = pending.spans - exportedSpans;
      if (r.permanent) {
        aborted ??= `the collector rejected a request: ${error}`;
      } else if (o.signal?.aborted) {
        aborted ??= 'interrupted';
      } else if (waited + delay > maxRetryMs) {
        aborted ??= `the collector did not acknowledge for ${Math.round(waited / 1000)} s: ${error}`;
      }
      if (aborted) {
        log(`collector error, giving up: ${error}; backlog ${backlog} spans kept in the ledger`);
        return;
      }
      log(
        `collector did not acknowledge ${spans.length} spans (${error}); backlog ${backlog} spans kept in the ledger; retrying in ${Math.round(delay)} ms`,
      );
      await sleep(delay, o.signal);
      delay = Math.min(delay * 2, maxBackoff);
    }
  };

  // The rows of `perRead` batches are read by one query (readPackedRows), a group at a time, on the
  // reading connection's queue. With a connection of its own, the next group is read while this one
  // is mapped, encoded and sent; on one connection, after the group's last ledger write is queued
  // (a read queued earlier would delay the ledger writes, and so the sends).
  const reader = o.instance ? await o.instance.connect() : conn;
  const rdb = reader === conn ? db : serial();
  if (reader !== conn) await copyPending(conn, reader);
  const batches = pending.batches;
  type Group = { exchanges: Map<number, string[]>; content?: Map<number, ContentRow[]> };
  // Batch i is in group groupOf[i]. The first group is one batch, so that sending starts after one
  // batch's query instead of a whole group's; then `perRead` batches a group.
  const groupOf = batches.map((_, i) => (i === 0 ? 0 : 1 + Math.floor((i - 1) / perRead)));
  // groups[g] is dropped once its last batch is taken, so that sent batches can be collected
  const groups: (Promise<Group> | undefined)[] = [];
  const queueGroup = (g: number) => {
    if (g < groups.length) return;
    const inGroup = batches.filter((_, i) => groupOf[i] === g);
    if (inGroup.length === 0) return;
    const p = rdb(async (): Promise<Group> => {
      const exchanges = await readPackedRows(
        reader,
        inGroup[0]!,
        inGroup[inGroup.length - 1]!,
        underived === 0,
      );
      if (!o.captureContent) return { exchanges };
      const content = new Map<number, ContentRow[]>();
      for (const b of inGroup) content.set(b, await readBatchContent(reader, b));
      return { exchanges, content };
    });
    p.catch(() => undefined); // awaited below; not an unhandled rejection if the loop stops first
    groups[g] = p;
  };
  const inflight = new Set<Promise<void>>();
  queueGroup(0);
  try {
    for (let i = 0; i < batches.length; i++) {
      const batchNo = batches[i]!;
      if (aborted) break;
      if (o.signal?.aborted) {
        aborted = 'interrupted';
        break;
      }
      while (inflight.size >= maxInflight) await Promise.race(inflight);
      if (aborted) break;
      const tb = performance.now();
      const g = groupOf[i]!;
      const groupEnds = groupOf[i + 1] !== g;
      const group = await groups[g]!;
      if (groupEnds) groups[g] = undefined;
      if (reader !== conn) queueGroup(g + 1);
      const rows = unpackRows(group.exchanges.get(batchNo) ?? []);
      group.exchanges.delete(batchNo);
      const content = group.content?.get(batchNo);
      group.content?.delete(batchNo);
      const spans = mapRows(rows, {
        content: content ? buildContentIndex(content) : undefined,
        contentMaxChars: o.contentMaxChars,
      });
      let exchanges = 0;
      for (let r = 0; r < rows.length; r++)
        if (r === 0 || rows[r]!.exchangeId !== rows[r - 1]!.exchangeId) exchanges++;
      buildMs += performance.now() - tb;
      peakRss = Math.max(peakRss, process.memoryUsage.rss());
      if (o.dryRun) {
        exportedSpans += spans.length;
        exportedExchanges += exchanges;
      } else {
        const p: Promise<void> = deliver(batchNo, spans, exchanges).finally(() => inflight.delete(p));
        inflight.add(p);
      }
      if (groupEnds) queueGroup(g + 1);
    }
    await Promise.all(inflight);
  } finally {
    // queued after every load, so it waits for them
    if (reader !== conn) await rdb(async () => reader.closeSync());
  }
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
  if (exporter && !o.exporter) await exporter.shutdown().catch(() => undefined);

  const result: ExportTracesResult = {
    ok: aborted === undefined,
    url,
    protocol,
    exchanges: exportedExchanges,
    spans: exportedSpans,
    batches: pending.batches.length,
    requests,
    failedRequests,
    pendingExchanges: pending.exchanges,
    pendingSpans: pending.spans,
    backlogExchanges: pending.exchanges - exportedExchanges,
    backlogSpans: pending.spans - exportedSpans,
    seconds: (performance.now() - t0) / 1000,
    buildSeconds: buildMs / 1000,
    peakRssMb: Math.round(peakRss / 1048576),
  };
  if (aborted) result.reason = aborted;
  return result;
}
