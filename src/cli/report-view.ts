/**
 * How each report looks in a terminal: its columns (with the priority that decides which fit), the
 * sub-agent tree of `sessions`, and the one-screen summary. Programs get the rows themselves
 * (`--format json|csv`, src/store/reports.ts); this module only draws.
 */
import type { Summary } from '../store/report-summary.ts';
import type { ReportName, ReportResult } from '../store/reports.ts';
import { tildify } from './console.ts';
import { type Column, clip, formatInt, renderTable, width } from './table.ts';

const c = (key: string, header: string, kind: Column['kind'], priority: number, more: Partial<Column> = {}) =>
  ({ key, header, kind, priority, ...more }) as Column;

const TOKEN_COLS = (p: { input: number; output: number; read: number; write: number }) => [
  c('input_tokens', 'Input', 'int', p.input),
  c('output_tokens', 'Output', 'int', p.output),
  c('reasoning_tokens', 'Reasoning', 'int', 99, { wideOnly: true }),
  c('cache_read_tokens', 'Cache read', 'int', p.read),
  c('cache_write_tokens', 'Cache write', 'int', p.write),
];

const periodCols = (key: string, header: string): Column[] => [
  c(key, header, 'text', 0),
  c('sessions', 'Sessions', 'int', 3),
  c('exchanges', 'Exchanges', 'int', 8),
  ...TOKEN_COLS({ input: 5, output: 4, read: 6, write: 7 }),
  c('tokens', 'Tokens', 'int', 2),
  c('errors', 'Errors', 'int', 9),
  c('cost_usd', 'Cost', 'money', 1),
  c('computed_cost_usd', 'List price', 'money', 99, { wideOnly: true }),
  c('models', 'Models', 'text', 10, { flex: true, min: 12 }),
];

const COLUMNS: Record<ReportName, Column[]> = {
  sessions: [
    c('label', 'Session', 'text', 0, { flex: true, min: 28 }),
    c('session_id', 'ID', 'text', 99, { wideOnly: true }),
    c('project', 'Project', 'text', 6),
    c('agent', 'Agent', 'text', 99, { wideOnly: true }),
    c('started', 'Started', 'text', 4, { compactOnly: true }),
    c('started_at_minute', 'Started (UTC)', 'text', 99, { wideOnly: true }),
    c('duration_ms', 'Time', 'minutes', 7),
    c('exchanges', 'Exch.', 'int', 8),
    c('tool_calls', 'Tools', 'int', 9),
    c('errors', 'Errors', 'int', 5),
    ...TOKEN_COLS({ input: 99, output: 99, read: 99, write: 99 }).map((x) => ({ ...x, wideOnly: true })),
    c('shown_tokens', 'Tokens', 'int', 2),
    c('shown_cost', 'Cost', 'money', 1),
    c('shown_computed', 'List price', 'money', 99, { wideOnly: true }),
  ],
  daily: periodCols('day', 'Day (UTC)'),
  weekly: periodCols('week', 'Week of'),
  monthly: periodCols('month', 'Month'),
  models: [
    c('model', 'Model', 'text', 0, { flex: true, min: 28 }),
    c('llm_messages', 'Messages', 'int', 3),
    c('steps', 'Steps', 'int', 99, { wideOnly: true }),
    ...TOKEN_COLS({ input: 5, output: 4, read: 7, write: 8 }),
    c('tokens', 'Tokens', 'int', 2),
    c('cost_usd', 'Cost', 'money', 1),
    c('computed_cost_usd', 'List price', 'money', 6),
  ],
  tools: [
    c('tool_name', 'Tool', 'text', 0, { flex: true, min: 10 }),
    c('calls', 'Calls', 'int', 1),
    c('errors', 'Errors', 'int', 2),
    c('error_pct', 'Error %', 'pct', 3),
    c('p50_ms', 'p50', 'ms', 5),
    c('p95_ms', 'p95', 'ms', 4),
    c('p99_ms', 'p99', 'ms', 99, { wideOnly: true }),
    c('total_ms', 'Total time', 'minutes', 6),
  ],
  errors: [
    c('error_category', 'Category', 'text', 0),
    c('source', 'Source', 'text', 2),
    c('count', 'Count', 'int', 1),
    c('sessions', 'Sessions', 'int', 3),
    c('last_seen_at', 'Last seen', 'text', 4),
    c('example', 'Example', 'text', 5, { flex: true, min: 16 }),
  ],
};

const shortPath = (p: unknown) => (typeof p === 'string' ? tildify(p) : p);
const minute = (iso: unknown) => (typeof iso === 'string' ? iso.slice(0, 16).replace('T', ' ') : iso);
const day = (iso: unknown) => (typeof iso === 'string' ? iso.slice(0, 10) : iso);

/** Display rows: derived cells (a session's tree label, its rolled-up cost) next to the data. */
function viewRows(name: ReportName, r: ReportResult, flat: boolean) {
  return r.rows.map((row) => {
    const depth = Number(row.depth ?? 0);
    return {
      ...row,
      label:
        depth > 0
          ? `${'  '.repeat(depth - 1)}└ ${row.title ?? row.session_id}`
          : (row.title ?? row.session_id),
      project: shortPath(row.project),
      started: day(row.started_at),
      started_at_minute: minute(row.started_at),
      last_seen_at: minute(row.last_seen),
      model: name === 'models' ? `${row.provider_id}/${row.model_id}` : undefined,
      shown_cost: flat ? row.cost_usd : row.total_cost_usd,
      shown_tokens: flat ? row.tokens : row.total_tokens,
      shown_computed: flat ? row.computed_cost_usd : row.total_computed_cost_usd,
    };
  });
}

export interface ViewOptions {
  width?: number;
  wide?: boolean;
  flat?: boolean;
}

export function renderReport(name: ReportName, r: ReportResult, o: ViewOptions): string {
  const t = r.totals;
  const totals =
    name === 'sessions'
      ? { ...t, shown_cost: t.cost_usd, shown_tokens: t.tokens, shown_computed: t.computed_cost_usd }
      : t;
  const table = renderTable(viewRows(name, r, o.flat ?? false), COLUMNS[name], {
    maxWidth: o.width,
    wide: o.wide,
    totals,
    leftCut: ['project'],
  });
  const lines = [table];
  const hints = ['--wide: every column', '--format json|csv: for programs'];
  if (name === 'sessions') {
    const shown = r.rows.length;
    const subs = Number(t.subagents ?? 0);
    lines.push(
      `${formatInt(Number(t.sessions ?? 0))} sessions (${formatInt(subs)} sub-agents)` +
        (shown < Number(t.sessions ?? 0) ? `, ${formatInt(shown)} shown` : '') +
        (o.flat || subs === 0 ? '' : '; a parent row includes its sub-agents'),
    );
    if (!o.flat) hints.unshift('--flat: one row each');
  }
  if (!o.wide) lines.push(hints.join(' · '));
  return lines.map((l) => fitLines(l, o.wide ? undefined : o.width)).join('\n');
}

const fitLines = (s: string, w?: number) =>
  w === undefined
    ? s
    : s
        .split('\n')
        .map((l) => (width(l) > w ? clip(l, w) : l))
        .join('\n');

const WINDOW_LABEL = { today: 'Today', '7d': 'Last 7 days', '30d': 'Last 30 days', all: 'All time' };

/** `o.dbArg`: ` --db FILE` for a store that is not the default one, else empty. */
export function renderSummary(s: Summary, o: { width?: number; dbArg: string }): string {
  const w = o.width ?? 80;
  const out: string[] = [];
  out.push(
    `OpenCode usage · ${s.now.slice(0, 16).replace('T', ' ')} UTC · newest activity ${minute(s.newest_activity) ?? '-'}`,
  );
  out.push('');
  out.push(
    renderTable(
      s.windows.map((x) => ({ ...x, label: WINDOW_LABEL[x.window] })),
      [
        c('label', '', 'text', 0),
        c('cost_usd', 'Cost', 'money', 0),
        c('tokens', 'Tokens', 'int', 0),
        c('sessions', 'Sessions', 'int', 0),
        c('computed_cost_usd', 'List price', 'money', 1),
      ],
      { maxWidth: w },
    ),
  );
  const span = s.top_window === 'all' ? 'all time' : 'last 30 days';
  const section = (title: string, rows: Record<string, unknown>[], cols: Column[]) => {
    out.push('', title);
    out.push(rows.length === 0 ? '  none' : renderTable(rows, cols, { maxWidth: w }));
  };
  section(
    `Top models, ${span}`,
    s.top_models.map((m) => ({ ...m, model: `${m.provider_id}/${m.model_id}` })),
    COLUMNS.models.filter((x) => ['model', 'llm_messages', 'tokens', 'cost_usd'].includes(x.key)),
  );
  section(
    `Top tools, ${span}`,
    s.top_tools,
    COLUMNS.tools.filter((x) => ['tool_name', 'calls', 'errors', 'error_pct', 'p95_ms'].includes(x.key)),
  );
  section(
    `Errors by category, ${span}`,
    s.error_categories.map((e) => ({ ...e, last_seen_at: minute(e.last_seen) })),
    COLUMNS.errors.filter((x) =>
      ['error_category', 'source', 'count', 'sessions', 'last_seen_at'].includes(x.key),
    ),
  );
  out.push('');
  const h = s.health;
  if (!h) out.push(`Health: not checked yet (ocbridge health${o.dbArg})`);
  else {
    const verdict = { pass: 'all checks pass', warn: 'warnings', fail: 'FAILING' }[h.status] ?? h.status;
    out.push(
      `Health: ${verdict} (${h.pass} pass, ${h.warn} warn, ${h.fail} fail at ${minute(h.checked_at)} UTC)`,
    );
    if (h.failing.length) out.push(`  look at: ${h.failing.join(', ')} (ocbridge health)`);
  }
  out.push('Details: ocbridge report daily|weekly|monthly|sessions|models|tools|errors');
  return out.map((l) => fitLines(l, w)).join('\n');
}
