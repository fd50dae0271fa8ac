/**
 * `ocbridge report` with no kind: one screen of what matters. Cost, tokens and sessions today, over
 * 7 and 30 days and all time (UTC days ending with `now`); the top models, tools and error
 * categories of the last 30 days; the verdict of the newest stored health run.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { type JsonRow, queryRows } from './query.ts';
import { runReport } from './reports.ts';

export interface SummaryWindow {
  window: 'today' | '7d' | '30d' | 'all';
  since: string | null;
  sessions: number;
  tokens: number;
  cost_usd: number;
  computed_cost_usd: number | null;
}

export interface Summary {
  now: string;
  newest_activity: string | null;
  windows: SummaryWindow[];
  /** What the top lists cover. */
  top_window: '30d' | 'all';
  top_models: JsonRow[];
  top_tools: JsonRow[];
  error_categories: JsonRow[];
  health: {
    checked_at: string;
    status: string;
    pass: number;
    warn: number;
    fail: number;
    failing: string[];
  } | null;
}

const DAY = 86_400_000;

export async function runSummary(
  conn: DuckDBConnection,
  o: { now?: Date; project?: string; top?: number } = {},
): Promise<Summary> {
  const now = o.now ?? new Date();
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const windows: SummaryWindow[] = [];
  const starts = { today: today, '7d': today - 6 * DAY, '30d': today - 29 * DAY, all: null } as const;
  for (const [window, start] of Object.entries(starts) as [SummaryWindow['window'], number | null][]) {
    const since = start === null ? null : new Date(start).toISOString();
    const { totals } = await runReport(conn, 'daily', { since: since ?? undefined, project: o.project });
    windows.push({
      window,
      since,
      sessions: Number(totals.sessions ?? 0),
      tokens: Number(totals.tokens ?? 0),
      cost_usd: Number(totals.cost_usd ?? 0),
      computed_cost_usd: totals.computed_cost_usd === null ? null : Number(totals.computed_cost_usd),
    });
  }
  // the top lists cover the last 30 days, or all time when nothing happened in them
  const quiet = windows[2]?.sessions === 0;
  const recent = {
    since: quiet ? undefined : new Date(starts['30d']).toISOString(),
    project: o.project,
    limit: o.top ?? 5,
  };
  const [models, tools, errors] = [
    await runReport(conn, 'models', recent),
    await runReport(conn, 'tools', recent),
    await runReport(conn, 'errors', recent),
  ];
  const [newest] = await queryRows(
    conn,
    `SELECT strftime(max(created_at), '%Y-%m-%dT%H:%M:%S.%gZ') AS at FROM message_facts`,
  );
  return {
    now: now.toISOString(),
    newest_activity: (newest?.at as string | null) ?? null,
    windows,
    top_window: quiet ? 'all' : '30d',
    top_models: models.rows,
    top_tools: tools.rows,
    error_categories: errors.rows,
    health: await lastHealth(conn),
  };
}

async function lastHealth(conn: DuckDBConnection): Promise<Summary['health']> {
  const [r] = await queryRows(
    conn,
    `SELECT strftime(any_value(checked_at), '%Y-%m-%dT%H:%M:%S.%gZ') AS checked_at,
            count(*) FILTER (WHERE status = 'pass') AS pass, count(*) FILTER (WHERE status = 'warn') AS warn,
            count(*) FILTER (WHERE status = 'fail') AS fail,
            list(check_id ORDER BY check_id) FILTER (WHERE status <> 'pass') AS failing
     FROM health_check_history
     WHERE run_id = (SELECT arg_max(run_id, checked_at) FROM health_check_history)`,
  );
  if (!r || r.checked_at === null) return null;
  const fail = Number(r.fail);
  const warn = Number(r.warn);
  return {
    checked_at: String(r.checked_at),
    status: fail > 0 ? 'fail' : warn > 0 ? 'warn' : 'pass',
    pass: Number(r.pass),
    warn,
    fail,
    failing: (r.failing as string[] | null) ?? [],
  };
}
