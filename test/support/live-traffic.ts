/**
 * Realistic live OpenCode traffic from a generated corpus: `splitCorpus` copies a corpus into a data
 * dir with only its oldest items (by the time encoded in their IDs), and returns the rest as items to
 * write later, in time order, as OpenCode would: JSON files (written in place, not renamed) and SQLite
 * rows (`time_updated` = now). Some held-back parts first appear unfinished (a running tool, half a
 * text) and are updated in place later; some tool outputs can be made large.
 */
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import Database from 'better-sqlite3';
import { ID_RE, idEncodedValue } from '../../src/gen/index.ts';

export type TrafficItem =
  | { kind: 'file'; rel: string; text: string }
  | { kind: 'row'; db: string; table: string; row: Record<string, unknown> };

interface Keyed {
  key: bigint;
  item: TrafficItem;
}

/** Tables whose rows are held back (they have an `id` and a `time_updated`). */
const ROW_TABLES = ['session_v2', 'session_message', 'session', 'message', 'part'];

function timeKey(id: unknown): bigint {
  const s = String(id ?? '');
  return ID_RE.test(s) ? idEncodedValue(s, s.startsWith('ses_')) : 0n;
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
  );
}

export interface SplitOptions {
  /** Share of the items present at the start (0.9: a store 90% loaded). */
  loaded: number;
  /** Every n-th held-back part first appears unfinished and is completed later (0: none). */
  updateEvery?: number;
  /** Tool outputs of this many bytes given to this many held-back tool parts. */
  bigOutputs?: { count: number; bytes: number };
}

/** Copies the loaded share of `corpus` into `target`; returns the held-back items in write order. */
export function splitCorpus(corpus: string, target: string, o: SplitOptions): TrafficItem[] {
  const all: Keyed[] = [];
  const storage = join(corpus, 'storage');
  for (const p of walk(storage)) {
    const rel = relative(storage, p);
    const text = readFileSync(p, 'utf8');
    const name =
      rel
        .split('/')
        .pop()
        ?.replace(/\.json$/, '') ?? '';
    // todo/session_diff files are named by their session; everything else by its own ID
    all.push({ key: timeKey(name), item: { kind: 'file', rel, text } });
  }
  const dbs = readdirSync(corpus).filter((f) => f.endsWith('.db'));
  for (const f of dbs) {
    const src = new Database(join(corpus, f), { readonly: true });
    const tables = new Set(
      (src.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map(
        (r) => r.name,
      ),
    );
    for (const table of ROW_TABLES) {
      if (!tables.has(table)) continue;
      for (const row of src.prepare(`SELECT * FROM ${table}`).all() as Record<string, unknown>[])
        all.push({ key: timeKey(row.id), item: { kind: 'row', db: f, table, row } });
    }
    src.close();
  }
  all.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const cut = Math.floor(all.length * o.loaded);
  const later = all.slice(cut).map((k) => k.item);

  mkdirSync(target, { recursive: true });
  for (const { item } of all.slice(0, cut)) if (item.kind === 'file') writeFile(target, item);
  for (const f of dbs) {
    copyFileSync(join(corpus, f), join(target, f));
    const db = new Database(join(target, f));
    db.pragma('journal_mode = WAL');
    const del = db.transaction((items: TrafficItem[]) => {
      for (const it of items)
        if (it.kind === 'row' && it.db === f)
          db.prepare(`DELETE FROM ${it.table} WHERE id = ?`).run(it.row.id as string);
    });
    del(later);
    db.close();
  }
  return withUpdatesAndOutputs(later, o);
}

/** Makes some parts appear unfinished first and some tool outputs large. */
function withUpdatesAndOutputs(items: TrafficItem[], o: SplitOptions): TrafficItem[] {
  const out: TrafficItem[] = [];
  const deferred: { at: number; item: TrafficItem }[] = [];
  let parts = 0;
  let big = o.bigOutputs?.count ?? 0;
  for (const item of items) {
    const part = partOf(item);
    if (part) {
      parts++;
      const state = part.state as Record<string, unknown> | undefined;
      if (big > 0 && state && typeof state.output === 'string') {
        state.output = bigText(o.bigOutputs?.bytes ?? 0, parts);
        setPart(item, part);
        big--;
      }
      if (o.updateEvery && parts % o.updateEvery === 0) {
        const early = structuredClone(part);
        if (early.state && typeof early.state === 'object')
          early.state = { status: 'running', input: (early.state as Record<string, unknown>).input ?? {} };
        else if (typeof early.text === 'string') early.text = early.text.slice(0, early.text.length >> 1);
        const first = structuredClone(item);
        setPart(first, early);
        out.push(first);
        deferred.push({ at: out.length + 20, item });
        continue;
      }
    }
    while (deferred[0] && deferred[0].at <= out.length)
      out.push((deferred.shift() as { item: TrafficItem }).item);
    out.push(item);
  }
  for (const d of deferred) out.push(d.item);
  return out;
}

function partOf(item: TrafficItem): Record<string, unknown> | null {
  if (item.kind === 'file') return item.rel.startsWith('part/') ? JSON.parse(item.text) : null;
  if (item.table === 'part') return JSON.parse(String(item.row.data));
  return null;
}

function setPart(item: TrafficItem, part: Record<string, unknown>): void {
  if (item.kind === 'file') item.text = JSON.stringify(part, null, 2);
  else item.row = { ...item.row, data: JSON.stringify(part) };
}

function bigText(bytes: number, seed: number): string {
  const line = `line ${seed}: ${'output of a long-running command '.repeat(3)}\n`;
  return line.repeat(Math.ceil(bytes / line.length)).slice(0, bytes);
}

function writeFile(target: string, item: { rel: string; text: string }): void {
  const p = join(target, 'storage', item.rel);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, item.text);
}

/** Writes traffic items into a data dir as OpenCode would (one open connection per database). */
export class TrafficWriter {
  private readonly dbs = new Map<string, Database.Database>();
  private lastMs = 0;
  written = 0;

  constructor(private readonly target: string) {}

  write(item: TrafficItem): void {
    if (item.kind === 'file') writeFile(this.target, item);
    else {
      let db = this.dbs.get(item.db);
      if (!db) {
        db = new Database(join(this.target, item.db));
        db.pragma('journal_mode = WAL');
        db.pragma('busy_timeout = 5000');
        this.dbs.set(item.db, db);
      }
      // rows written now carry now as their time_updated, as OpenCode's do
      this.lastMs = Math.max(Date.now(), this.lastMs);
      const row: Record<string, unknown> = { ...item.row, time_updated: this.lastMs };
      const cols = Object.keys(row);
      db.prepare(
        `INSERT OR REPLACE INTO ${item.table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`,
      ).run(...cols.map((c) => row[c] as string | number | null));
    }
    this.written++;
  }

  /** Writes `items` at `perSecond` (in small bursts, every 10 ms); resolves when all are written. */
  async writeAt(items: TrafficItem[], perSecond: number, stop?: () => boolean): Promise<void> {
    const t0 = performance.now();
    let i = 0;
    while (i < items.length && !stop?.()) {
      const due = Math.min(items.length, Math.floor(((performance.now() - t0) / 1000) * perSecond) + 1);
      while (i < due) this.write(items[i++] as TrafficItem);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  close(): void {
    for (const db of this.dbs.values()) db.close();
    this.dbs.clear();
  }
}
