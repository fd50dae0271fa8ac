/**
 * `/internal/*`: what the CLI asks the running bridge while it holds the store (`ocbridge query`,
 * `report`, `health`, `backup`), opened only by the local credential (server.ts checks it).
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { z } from 'zod';
import { runSummary } from '../store/report-summary.ts';
import { REPORTS, type ReportName, runReport } from '../store/reports.ts';
import type { ConnectionPool } from './pool.ts';
import type { ApiDeps } from './server.ts';
import type { SqlResult } from './sql-guard.ts';

/** Runs one read-only SELECT (`local`: the bridge's own user, the instance keeps its file access). */
export type SqlRunner = (
  sql: string,
  limit: number,
  timeoutMs: number,
  local?: boolean,
) => Promise<{
  data: SqlResult['rows'];
  next_cursor: null;
  columns: SqlResult['columns'];
  truncated: boolean;
}>;

export function invalid(
  c: Context,
  issues: readonly { path: PropertyKey[]; message: string }[],
  where?: string,
) {
  const first = issues[0];
  const name = first?.path.map(String).join('.') || where || 'request';
  return c.json({ error: 'invalid parameter', parameter: name, detail: first?.message ?? 'invalid' }, 400);
}

export function registerInternal(
  app: OpenAPIHono,
  deps: Pick<ApiDeps, 'internalHealth' | 'internalBackup'>,
  pool: ConnectionPool,
  run: SqlRunner,
): void {
  // `ocbridge query`/`report` while this process holds the store: same guard, CLI-sized limits.
  const Internal = z.object({
    sql: z.string().min(1).max(100_000),
    limit: z.number().int().min(1).max(5_000_000).optional(),
    timeout_ms: z.number().int().min(1).max(3_600_000).optional(),
  });
  app.post('/internal/query', async (c) => {
    const body = Internal.safeParse(await c.req.json().catch(() => null));
    if (!body.success) return invalid(c, body.error.issues, 'body');
    return c.json(
      await run(body.data.sql, body.data.limit ?? 1_000_000, body.data.timeout_ms ?? 300_000, true),
    );
  });
  // `ocbridge health` while this process holds the store: the bridge's own scheduled checks, run now
  app.post('/internal/health', async (c) => {
    if (!deps.internalHealth)
      return c.json({ error: 'health checks are not scheduled in this process' }, 404);
    return c.json(await deps.internalHealth());
  });
  const Backup = z.object({ out: z.string().min(1).max(4096) });
  app.post('/internal/backup', async (c) => {
    const body = Backup.safeParse(await c.req.json().catch(() => null));
    if (!body.success) return invalid(c, body.error.issues, 'body');
    if (!deps.internalBackup) return c.json({ error: 'backups are not available in this process' }, 404);
    try {
      return c.json(await deps.internalBackup(body.data.out));
    } catch (e) {
      return c.json({ error: 'backup failed', detail: (e as Error).message }, 500);
    }
  });
  const Report = z.object({
    report: z.enum([...REPORTS, 'summary']),
    since: z.string().max(64).optional(),
    until: z.string().max(64).optional(),
    project: z.string().max(512).optional(),
    limit: z.number().int().min(0).max(1_000_000).optional(),
    flat: z.boolean().optional(),
  });
  app.post('/internal/report', async (c) => {
    const body = Report.safeParse(await c.req.json().catch(() => null));
    if (!body.success) return invalid(c, body.error.issues, 'body');
    const { report, ...o } = body.data;
    if (report === 'summary') {
      const summary = await pool.with((conn) => runSummary(conn, { project: o.project }), 300_000);
      return c.json({ summary });
    }
    const r = await pool.with((conn) => runReport(conn, report as ReportName, o), 300_000);
    return c.json({ data: r.rows, totals: r.totals, next_cursor: null });
  });
}
