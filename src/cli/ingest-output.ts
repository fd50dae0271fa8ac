/** What `ocbridge ingest` shows: a progress bar on a terminal, and a summary at the end. */
import type { IngestSummary, Progress } from '../pipeline/ingestor.ts';
import type { Store } from '../store/db.ts';
import { defaultDbPath } from '../store/db.ts';
import { queryRows } from '../store/query.ts';
import { loadProgress, StatusLine, tildify } from './console.ts';
import type { Format } from './format.ts';
import { formatInt, formatUsd } from './table.ts';

/** The history load as one status line on the terminal (src/cli/console.ts). */
export function progressReporter(): { update: (p: Progress) => void; stop: () => void } {
  const status = new StatusLine();
  return { update: loadProgress(status), stop: () => status.clear() };
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

const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);

/** `--db X` when the store is not the default one: hints must name the store the user used. */
export const dbArg = (db: string) => (db === defaultDbPath() ? '' : ` --db ${db}`);

export async function printSummary(
  store: Store,
  s: IngestSummary,
  format: Format,
  db: string,
): Promise<void> {
  const counts = await tableCounts(store);
  const bySource = await queryRows(
    store.conn,
    `SELECT source, count(*) AS sessions FROM sessions GROUP BY source ORDER BY source`,
  );
  const errors = await queryRows(
    store.conn,
    `SELECT severity, count(*) AS n FROM ingest_errors GROUP BY severity ORDER BY severity`,
  );
  const [usage] = await queryRows(
    store.conn,
    `SELECT (SELECT count(*) FROM sessions WHERE parent_session_id IS NOT NULL) AS subagent_sessions,
            coalesce(sum(input_tokens + output_tokens + reasoning_tokens + cache_read_tokens + cache_write_tokens), 0) AS tokens,
            coalesce(sum(cost_usd), 0) AS cost_usd, sum(computed_cost_usd) AS computed_cost_usd
     FROM message_facts WHERE role = 'assistant'`,
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
    usage: {
      sessions: counts.sessions ?? 0,
      subagentSessions: Number(usage?.subagent_sessions ?? 0),
      messages: counts.messages ?? 0,
      tokens: Number(usage?.tokens ?? 0),
      costUsd: Number(usage?.cost_usd ?? 0),
      computedCostUsd: usage?.computed_cost_usd === null ? null : Number(usage?.computed_cost_usd),
    },
    sessionsBySource: Object.fromEntries(bySource.map((r) => [String(r.source), Number(r.sessions)])),
    ingestErrors: Object.fromEntries(errors.map((r) => [String(r.severity), Number(r.n)])),
  };
  if (format === 'json') {
    process.stdout.write(`${JSON.stringify(out)}\n`);
    return;
  }
  const u = out.usage;
  const n = formatInt;
  const dbs = s.sources.dbFiles.length;
  const sources = [
    s.sources.storageDir ? 'storage/ JSON' : 'no JSON tree',
    `${dbs} database${dbs === 1 ? '' : 's'}`,
  ];
  const lines = [
    `Ingested in ${out.seconds} s from ${tildify(s.sources.root)} (${sources.join(', ')})`,
    `  loaded    ${n(u.sessions)} sessions (${n(u.subagentSessions)} sub-agent), ${n(u.messages)} messages`,
    `  usage     ${n(u.tokens)} tokens, ${formatUsd(u.costUsd)}` +
      (u.computedCostUsd === null ? '' : ` (list price ${formatUsd(u.computedCostUsd)})`),
    `  read      ${n(s.filesSeen)} files (${n(s.filesSkippedUnchanged)} unchanged), ${n(s.dbRowsRead)} database rows`,
    `  written   ${n(sum(s.stats.inserted))} rows new, ${n(sum(s.stats.replaced))} replaced`,
    `  also      ${n(counts.projects ?? 0)} projects, ${n(counts.parts ?? 0)} parts, ${n(counts.tool_calls ?? 0)} tool calls`,
  ];
  const bad = (out.ingestErrors.error ?? 0) + (out.ingestErrors.warning ?? 0);
  if (s.unreadableSources.length) lines.push(`  UNREADABLE: ${s.unreadableSources.join(', ')}`);
  if (bad > 0)
    lines.push(
      `  problems  ${n(out.ingestErrors.error ?? 0)} input(s) unreadable, ${n(out.ingestErrors.warning ?? 0)} with bad fields; see:`,
      `            ocbridge query${dbArg(db)} "SELECT * FROM ingest_errors"`,
    );
  else lines.push('  problems  none');
  lines.push(`Next: ocbridge report${dbArg(db)}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}
