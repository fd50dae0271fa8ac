/**
 * `ocbridge report [kind]`: the reports of src/store/reports.ts, drawn to fit the terminal
 * (src/cli/report-view.ts) or written whole for programs (`--format json|csv`, full precision).
 * With no kind: the one-screen summary.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { defaultDbPath } from '../store/db.ts';
import { runSummary, type Summary } from '../store/report-summary.ts';
import {
  REPORTS,
  type ReportName,
  type ReportOptions,
  type ReportResult,
  runReport,
  storedSessionCount,
} from '../store/reports.ts';
import { positiveInt } from './args.ts';
import { type Format, formatRows } from './format.ts';
import { dbArg } from './ingest-output.ts';
import { renderReport, renderSummary } from './report-view.ts';

const DAY = 86_400_000;

/**
 * A point in time (UTC) from `2026-01-31`, `20260131`, an ISO timestamp or `7d` (the start of the
 * day 7 days ago). `end`: a bare date means the end of that day (the bound is exclusive).
 */
export function parseWhen(s: string, end = false, now = new Date()): string {
  const rel = /^(\d+)d$/.exec(s);
  if (rel) {
    const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
    return new Date(today - Number(rel[1]) * DAY + (end ? DAY : 0)).toISOString();
  }
  const compact = /^(\d{4})(\d{2})(\d{2})$/.exec(s);
  const date = compact ? `${compact[1]}-${compact[2]}-${compact[3]}` : s;
  const bare = /^\d{4}-\d{2}-\d{2}$/.test(date);
  const t = Date.parse(bare ? `${date}T00:00:00Z` : date);
  if (Number.isNaN(t)) throw new InvalidArgumentError(`not a date: ${s} (try 2026-01-31, 20260131 or 7d)`);
  return new Date(t + (bare && end ? DAY : 0)).toISOString();
}

/** The terminal's width: stdout's when it is one, else $COLUMNS, else 80. */
export function terminalWidth(): number {
  if (process.stdout.isTTY && process.stdout.columns) return process.stdout.columns;
  const env = Number(process.env.COLUMNS);
  return Number.isInteger(env) && env >= 20 ? env : 80;
}

interface ReportCliOptions {
  since?: string;
  until?: string;
  project?: string;
  limit: number;
  wide?: boolean;
  flat?: boolean;
  db: string;
  format: Format;
}

export function emptyStoreHint(db: string): string {
  return `ocbridge: the store ${db} has no sessions yet; fill it with: ocbridge ingest --db ${db} (reads OpenCode's data dir, or --source DIR)`;
}

function emit(kind: ReportName | undefined, r: ReportResult | Summary, o: ReportCliOptions): string {
  if (kind === undefined) {
    const s = r as Summary;
    return o.format === 'table'
      ? renderSummary(s, { width: terminalWidth(), dbArg: dbArg(o.db) })
      : JSON.stringify(s);
  }
  const rep = r as ReportResult;
  if (o.format === 'table')
    return renderReport(kind, rep, { width: terminalWidth(), wide: o.wide, flat: o.flat });
  if (o.format === 'json') return JSON.stringify(rep.rows);
  return formatRows(rep.rows, 'csv', rep.rows[0] ? Object.keys(rep.rows[0]) : []);
}

export function registerReportCommand(program: Command): void {
  program
    .command('report')
    .description('what your sessions cost: a one-screen summary, or one report in detail')
    .argument('[kind]', `which report: ${REPORTS.join(', ')} (none: the summary)`)
    .option('--since <when>', 'only activity from this UTC date or time on (2026-01-31, 20260131, 7d)')
    .option('--until <when>', 'only activity up to this UTC date (inclusive) or before this time')
    .option('--project <project>', 'project ID, or part of its directory path')
    .option('--limit <n>', 'at most this many rows (top-level sessions for `sessions`)', positiveInt, 1000)
    .option('--wide', 'every column, whatever the terminal width')
    .option('--flat', '`sessions`: sub-agent sessions on rows of their own, not nested under their parent')
    .option('--db <file>', 'DuckDB store file', defaultDbPath())
    .addOption(
      new Option('-f, --format <format>', 'table for people; json or csv for programs (full precision)')
        .choices(['table', 'json', 'csv'])
        .default('table'),
    )
    .action(async (kind: string | undefined, o: ReportCliOptions) => {
      if (kind !== undefined && !(REPORTS as readonly string[]).includes(kind))
        throw new InvalidArgumentError(`report: unknown kind '${kind}' (one of: ${REPORTS.join(', ')})`);
      if (kind === undefined && o.format === 'csv')
        throw new InvalidArgumentError(
          'report: the summary has no csv form (use --format json, or name a report)',
        );
      const q: ReportOptions = {
        since: o.since === undefined ? undefined : parseWhen(o.since),
        until: o.until === undefined ? undefined : parseWhen(o.until, true),
        project: o.project,
        limit: o.limit,
        flat: o.flat,
      };
      const name = kind as ReportName | undefined;
      const { openOrBridge } = await import('./bridge-client.ts');
      const opened = await openOrBridge(o.db, { readOnly: true });
      let out: ReportResult | Summary;
      if (opened.bridge) {
        out = name
          ? await opened.bridge.report(name, q)
          : await opened.bridge.summary({ project: o.project });
      } else {
        const { store } = opened;
        try {
          if ((await storedSessionCount(store.conn)) === 0) {
            console.error(emptyStoreHint(o.db));
            if (o.format === 'json') process.stdout.write('[]\n');
            return;
          }
          out = name
            ? await runReport(store.conn, name, q)
            : await runSummary(store.conn, { project: o.project });
        } finally {
          store.close();
        }
      }
      process.stdout.write(`${emit(name, out, o)}\n`);
    });
}
