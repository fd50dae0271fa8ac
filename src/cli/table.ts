/**
 * Tables for people: columns chosen by priority until the terminal's width is used, one flexible
 * text column that takes the rest and is cut with `…`, numbers right-aligned with thousands
 * separators, money as `$1,234.56`, a rule under the header and above the totals row, none between
 * rows. Hand-written rather than cli-table3, which draws a rule between every row or none at all and
 * does not choose columns; cell widths are measured with string-width (wide and combining characters).
 */
import stringWidth from 'string-width';

export type Kind = 'text' | 'int' | 'money' | 'ms' | 'pct' | 'minutes';

export interface Column {
  key: string;
  header: string;
  kind: Kind;
  /** Lower is kept first when the width runs out; 0 is always kept. */
  priority: number;
  /** The text column that takes the width left over (at most one per table). */
  flex?: boolean;
  /** Only with `--wide`. */
  wideOnly?: boolean;
  /** Only without `--wide` (a wide column says it in full). */
  compactOnly?: boolean;
  /** Narrowest useful width of a flexible column. */
  min?: number;
}

const int = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const usd = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });
const pct = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1, minimumFractionDigits: 1 });

export const formatInt = (v: number) => int.format(v);
export const formatUsd = (v: number) => usd.format(Math.abs(v) < 0.005 ? 0 : v);

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  return h < 48 ? `${h}h ${String(m % 60).padStart(2, '0')}m` : `${Math.floor(h / 24)}d ${h % 24}h`;
}

export function formatCell(v: unknown, kind: Kind): string {
  if (v === null || v === undefined || v === '') return kind === 'text' ? '' : '-';
  if (kind === 'text') return typeof v === 'object' ? JSON.stringify(v) : String(v).replace(/\s+/g, ' ');
  const n = Number(v);
  if (!Number.isFinite(n)) return String(v);
  switch (kind) {
    case 'money':
      return formatUsd(n);
    case 'pct':
      return `${pct.format(n)}%`;
    case 'ms':
      return n < 1000 ? `${int.format(n)} ms` : `${(n / 1000).toFixed(1)} s`;
    case 'minutes':
      return formatDuration(n);
    default:
      return int.format(n);
  }
}

export const width = (s: string) => stringWidth(s);

/** Cuts `s` to `w` columns, ending in `…` when cut (from the left with `fromLeft`: paths). */
export function clip(s: string, w: number, fromLeft = false): string {
  if (width(s) <= w) return s;
  if (w <= 1) return '…'.slice(0, w);
  const chars = [...s];
  let out = '';
  for (const c of fromLeft ? chars.reverse() : chars) {
    if (width(out + c) > w - 1) break;
    out = fromLeft ? c + out : out + c;
  }
  return fromLeft ? `…${out}` : `${out}…`;
}

const GAP = 2;

export interface TableOptions {
  /** Terminal columns; undefined = no limit (`--wide`). */
  maxWidth?: number;
  wide?: boolean;
  totals?: Record<string, unknown>;
  /** Cell text overrides (e.g. an indented title). */
  text?: (row: Record<string, unknown>, key: string, cell: string) => string;
  /** Keys of text columns cut from the left (paths). */
  leftCut?: readonly string[];
}

/** Which columns fit: by priority, the flexible one at its minimum until the others are placed. */
function choose(cols: Column[], natural: Map<string, number>, maxWidth: number | undefined): Column[] {
  if (maxWidth === undefined) return cols;
  const byPriority = [...cols].sort((a, b) => a.priority - b.priority);
  const kept = new Set<Column>();
  let used = -GAP;
  for (const c of byPriority) {
    const w = c.flex ? Math.min(natural.get(c.key) ?? 0, c.min ?? 12) : (natural.get(c.key) ?? 0);
    if (c.priority > 0 && used + GAP + w > maxWidth) continue;
    kept.add(c);
    used += GAP + w;
  }
  return cols.filter((c) => kept.has(c));
}

export function renderTable(rows: Record<string, unknown>[], all: Column[], o: TableOptions = {}): string {
  const cols = all.filter((c) => (o.wide ? !c.compactOnly : !c.wideOnly));
  const cellText = (r: Record<string, unknown>, c: Column) => {
    const s = formatCell(r[c.key], c.kind);
    return o.text ? o.text(r, c.key, s) : s;
  };
  const body = rows.map((r) => cols.map((c) => cellText(r, c)));
  const total = o.totals
    ? cols.map((c) => (c.kind === 'text' ? '' : formatCell(o.totals?.[c.key], c.kind)))
    : null;
  if (total && cols[0]) total[0] = 'Total';
  const natural = new Map<string, number>();
  cols.forEach((c, i) => {
    const cells = [c.header, ...body.map((b) => b[i] ?? ''), ...(total ? [total[i] ?? ''] : [])];
    natural.set(c.key, Math.max(...cells.map(width)));
  });
  const shown = choose(cols, natural, o.wide ? undefined : o.maxWidth);
  const idx = shown.map((c) => cols.indexOf(c));
  const widths = shown.map((c) => natural.get(c.key) ?? 0);
  const flexAt = shown.findIndex((c) => c.flex);
  const wideTextCap = 60;
  if (o.wide || o.maxWidth === undefined) {
    shown.forEach((c, i) => {
      if (c.kind === 'text') widths[i] = Math.min(widths[i] ?? 0, wideTextCap);
    });
  } else {
    const sum = () => widths.reduce((a, b) => a + b, 0) + GAP * (widths.length - 1);
    if (flexAt >= 0) widths[flexAt] = Math.max(1, (widths[flexAt] ?? 0) - Math.max(0, sum() - o.maxWidth));
    // still too wide (a very narrow terminal): cut the first column too
    if (sum() > o.maxWidth) widths[0] = Math.max(1, (widths[0] ?? 0) - (sum() - o.maxWidth));
  }
  const line = (cells: string[]) =>
    shown
      .map((c, i) => {
        const w = widths[i] ?? 0;
        const s = clip(cells[idx[i] ?? 0] ?? '', w, o.leftCut?.includes(c.key));
        const pad = ' '.repeat(Math.max(0, w - width(s)));
        return c.kind === 'text' ? s + pad : pad + s;
      })
      .join(' '.repeat(GAP))
      .trimEnd();
  const rule = widths.map((w) => '─'.repeat(w)).join(' '.repeat(GAP));
  const out = [line(cols.map((c) => c.header)), rule];
  for (const b of body) out.push(line(b));
  if (total) out.push(rule, line(total));
  return out.join('\n');
}
