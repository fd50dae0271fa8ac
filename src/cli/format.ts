/** Renders rows for people (table) and for programs (json: one array of row objects; csv). */
import Table from 'cli-table3';

export type Format = 'table' | 'json' | 'csv';

function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function csvCell(v: unknown): string {
  const s = cell(v);
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export function formatRows(rows: Record<string, unknown>[], format: Format, columns?: string[]): string {
  const cols = columns ?? (rows[0] ? Object.keys(rows[0]) : []);
  if (format === 'json') return JSON.stringify(rows);
  if (format === 'csv')
    return [cols.map(csvCell).join(','), ...rows.map((r) => cols.map((c) => csvCell(r[c])).join(','))].join(
      '\n',
    );
  const t = new Table({ head: cols, style: { head: [], border: [] } });
  for (const r of rows)
    t.push(
      cols.map((c) => {
        const s = cell(r[c]);
        return s.length > 80 ? `${s.slice(0, 77)}...` : s;
      }),
    );
  return t.toString();
}
