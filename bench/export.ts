/**
 * `npm run bench:export [-- --db F] [--protocols http/protobuf,http/json]`: backfill of ~230K spans
 * to the in-test OTLP receiver (in its own process, counting span IDs), against the time to build the
 * same spans without exporting. Prints spans/s, drops (spans not received exactly once), peak RSS.
 * The target (>= 40,000 spans/s, 0 drops, RSS < 1 GB) is judged on http/protobuf, the default
 * protocol and the one of its reference figure (a bare SDK export, 57K spans/s); http/json is printed
 * beside it. Then, as a second baseline in the same run, the same spans through the SDK's own OTLP
 * exporter for each protocol (bench/sdk-baseline.ts: spans already built, only the export timed).
 *
 * With `--db F` it exports the `exchange_traces` of that store (the real derivation, after
 * `ocbridge ingest` of the full-scale corpus); otherwise it writes synthetic exchange_traces rows
 * (and the raw rows they join) of the full-scale size, and says so.
 */
import { reexecWithBinFlags } from './common.ts';

reexecWithBinFlags(); // the bin's Node options: the young generation the CLI really has

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { exportTraces } from '../src/otel/export.ts';
import { DUCKDB_BUDGETS } from '../src/resources.ts';
import { openStore } from '../src/store/db.ts';
import { deriveSpanRowsIfMissing } from '../src/store/derive/index.ts';
import { FULL_SCALE, openTestStore, spansOf, writeSynthetic } from '../test/otel-fixtures.ts';
import type { ReceiverStats } from '../test/support/otlp-receiver.ts';

const { values } = parseArgs({
  options: {
    db: { type: 'string' },
    protocols: { type: 'string', default: 'http/protobuf,http/json' },
    out: { type: 'string', default: '.tmp/bench-export' },
  },
});

async function startReceiverProcess(): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/otlp-receiver.ts', '--ids-only'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  // never outlive the bench (an orphan would hold its stderr, the caller's pipe, open)
  process.once('exit', () => child.kill());
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.once('data', (d: Buffer) => resolve(d.toString().trim()));
    child.once('exit', (c) => reject(new Error(`receiver exited ${c}`)));
  });
  return { url, child };
}

let source: string;
let dbPath: string;
if (values.db) {
  dbPath = values.db;
  source = `exchange_traces of ${dbPath} (real derivation)`;
} else {
  mkdirSync(values.out ?? '.tmp/bench-export', { recursive: true });
  dbPath = join(values.out ?? '.tmp/bench-export', `synthetic-${spansOf(FULL_SCALE)}.duckdb`);
  source = `SYNTHETIC exchange_traces rows (${spansOf(FULL_SCALE)} spans: ${FULL_SCALE.sessions} sessions × ${FULL_SCALE.exchangesPerSession} exchanges × (1 + ${FULL_SCALE.stepsPerExchange} steps × (1 + ${FULL_SCALE.toolsPerStep} tools)), raw rows to join included)`;
  if (!existsSync(dbPath)) {
    const t = performance.now();
    const s = await openTestStore(dbPath);
    await writeSynthetic(s.conn, FULL_SCALE);
    await s.conn.run('CHECKPOINT');
    s.close();
    console.error(`wrote synthetic store in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }
}
console.log(`source: ${source}`);

// the export reads the span rows the derivation keeps (exchange_span_rows); a store derived before
// they existed, or the synthetic one (traces written without the derivation), gets them first, as the
// next `ocbridge ingest` would: a cost of the ingest, printed, not part of the export measured below
{
  const s = await openStore(dbPath);
  const d = await deriveSpanRowsIfMissing(s.conn);
  await s.conn.run('CHECKPOINT');
  s.close();
  if (d)
    console.log(`span rows derived first (part of the ingest's derivation): ${(d.ms / 1000).toFixed(2)} s`);
}

// as `ocbridge export` opens it
const store = await openStore(dbPath, { threads: DUCKDB_BUDGETS.exportThreads });
const results: Record<string, unknown>[] = [];
try {
  // baseline: read from DuckDB and map to SpanData; nothing encoded or sent
  const build = await exportTraces(store.conn, {
    instance: store.instance,
    dryRun: true,
    force: true,
    idleTimeoutMs: 0,
  });
  console.log(
    `build only: ${build.spans} spans in ${build.seconds.toFixed(2)} s (${Math.round(build.spans / build.seconds)} spans/s), peak RSS ${build.peakRssMb} MB`,
  );
  for (const protocol of (values.protocols ?? '').split(',').filter(Boolean)) {
    await store.conn.run("DELETE FROM export_ledger WHERE signal = 'traces'");
    const rx = await startReceiverProcess();
    const r = await exportTraces(store.conn, {
      instance: store.instance,
      endpoint: rx.url,
      protocol,
      idleTimeoutMs: 0,
    });
    const stats = (await (await fetch(`${rx.url}/stats`)).json()) as ReceiverStats;
    rx.child.kill();

    // spans the mapping built (the dry run) that did not arrive exactly once
    const drops = build.spans - stats.uniqueSpans + stats.duplicateSpans;
    const line = {
      protocol,
      spans: r.spans,
      seconds: Number(r.seconds.toFixed(2)),
      spansPerSecond: Math.round(r.spans / r.seconds),
      buildOnlySeconds: Number(build.seconds.toFixed(2)),
      exportOverBuild: Number((r.seconds / build.seconds).toFixed(2)),
      requests: r.requests,
      received: stats.spans,
      uniqueReceived: stats.uniqueSpans,
      drops,
      megabytes: Number((stats.bytes / 1048576).toFixed(1)),
      peakRssMb: r.peakRssMb,
      target:
        protocol !== 'http/protobuf'
          ? 'informational (the target is judged on http/protobuf, the default)'
          : r.spans / r.seconds >= 40_000 && drops === 0 && r.peakRssMb < 1024
            ? 'met'
            : 'NOT met (>= 40,000 spans/s, 0 drops, RSS < 1 GB)',
    };
    results.push(line);
    console.log(JSON.stringify(line));
  }
} finally {
  store.close();
}

// Baseline, same run: the same spans sent by the SDK's own exporter (bench/sdk-baseline.ts, after
// the store is closed: one process at a time may open it), to its own receiver.
for (const line of results) {
  const rx = await startReceiverProcess();
  try {
    const sdk = JSON.parse(
      execFileSync(
        process.execPath,
        [
          ...process.execArgv,
          'bench/sdk-baseline.ts',
          '--db',
          dbPath,
          '--url',
          rx.url,
          '--protocol',
          String(line.protocol),
        ],
        { encoding: 'utf8' },
      ),
    ) as { spans: number; seconds: number; spansPerSecond: number };
    console.log(
      JSON.stringify({
        baseline: "the SDK's own OTLP exporter, the same spans already built, only its export timed",
        protocol: line.protocol,
        spans: sdk.spans,
        seconds: sdk.seconds,
        spansPerSecond: sdk.spansPerSecond,
        oursOverSdk: Number((Number(line.spansPerSecond) / sdk.spansPerSecond).toFixed(2)),
      }),
    );
  } finally {
    rx.child.kill();
  }
}
