/** What `ocbridge ingest` shows: a progress bar on a terminal, and a summary at the end. */
import cliProgress from 'cli-progress';
import type { IngestSummary, Progress } from '../pipeline/ingestor.ts';
import type { Store } from '../store/db.ts';
import { queryRows } from '../store/query.ts';
import { type Format, formatRows } from './format.ts';

export function progressReporter(): { update: (p: Progress) => void; stop: () => void } {
  const bar = new cliProgress.SingleBar(
    {
      format: '{phase} [{bar}] {value}/{total} | {eta_formatted} left',
      hideCursor: true,
      etaBuffer: 200,
      stream: process.stderr,
    },
    cliProgress.Presets.shades_classic,
  );
  let phase = '';
  let started = false;
  return {
    update(p) {
      if (p.total <= 0) return;
      if (!started || p.phase !== phase) {
        if (started) bar.stop();
        bar.start(p.total, p.done, { phase: p.phase.padEnd(16) });
        phase = p.phase;
        started = true;
      } else bar.update(p.done, { phase: p.phase.padEnd(16) });
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

export async function tableCounts(store: Store): Promise<Record<string, number>> {
  const rows = await queryRows(
    store.conn,
    `SELECT 'projects' AS t, count(*) AS n FROM projects UNION ALL SELECT 'sessions', count(*) FROM sessions
     UNION ALL SELECT 'messages', count(*) FROM messages UNION ALL SELECT 'parts', count(*) FROM parts
     UNION ALL SELECT 'tool_calls', count(*) FROM tool_calls UNION ALL SELECT 'todos', count(*) FROM todos
     UNION ALL SELECT 'session_diffs', count(*) FROM session_diffs UNION ALL SELECT 'ingest_errors', count(*) FROM ingest_errors`,
  );
  return Object.fromEntries(rows.map((r) => [String(r.t), Number(r.n)]));
}

export async function printSummary(store: Store, s: IngestSummary, format: Format): Promise<void> {
  const counts = await tableCounts(store);
  const bySource = await queryRows(
    store.conn,
    `SELECT source, count(*) AS sessions FROM sessions GROUP BY source ORDER BY source`,
  );
  const errors = await queryRows(
    store.conn,
    `SELECT severity, count(*) AS n FROM ingest_errors GROUP BY severity ORDER BY severity`,
  );
  const out = {
    seconds: Number(s.seconds.toFixed(2)),
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    sources: {
      root: s.sources.root,
      storage: s.sources.storageDir,
      databases: s.sources.dbFiles,
      unreadable: s.unreadableSources,
    },
    files: { seen: s.filesSeen, unchanged: s.filesSkippedUnchanged, parsed: s.filesParsed },
    dbRowsRead: s.dbRowsRead,
    written: { inserted: s.stats.inserted, replaced: s.stats.replaced, shadowed: s.stats.shadowed },
    tables: counts,
    sessionsBySource: Object.fromEntries(bySource.map((r) => [String(r.source), Number(r.sessions)])),
    ingestErrors: Object.fromEntries(errors.map((r) => [String(r.severity), Number(r.n)])),
  };
  if (format === 'json') {
    process.stdout.write(`${JSON.stringify(out)}\n`);
    return;
  }
  const lines = [
    `ingested in ${out.seconds}s from ${s.sources.root}`,
    `  sources: ${s.sources.storageDir ? 'storage/ (JSON)' : 'no JSON tree'}, ${s.sources.dbFiles.length} database(s)` +
      (s.unreadableSources.length ? `, UNREADABLE: ${s.unreadableSources.join(', ')}` : ''),
    `  files: ${s.filesSeen} seen, ${s.filesSkippedUnchanged} unchanged, ${s.filesParsed} parsed; ${s.dbRowsRead} database rows read`,
    formatRows(
      Object.entries(counts).map(([table, rows]) => ({ table, rows })),
      'table',
    ),
  ];
  if ((out.ingestErrors.error ?? 0) + (out.ingestErrors.warning ?? 0) > 0) {
    lines.push(
      `  ${out.ingestErrors.error ?? 0} input(s) could not be read and ${out.ingestErrors.warning ?? 0} had bad fields: ` +
        `see \`ocbridge query "SELECT * FROM ingest_errors"\``,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}
