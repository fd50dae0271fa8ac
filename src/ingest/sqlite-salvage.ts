/**
 * Reading a table of a damaged opencode.db: when a read fails on a corrupt page, the table is read
 * again in rowid order (no index, no sort), and each range of rowids that cannot be read is skipped
 * and reported, so one bad page costs the rows on it and nothing else. The first readable rowid after
 * a failure is found by probing: seeking past a rowid reads only the leaf page that holds the next one,
 * so "can the rows after s be read?" answers per page; doubling steps find a readable point and a
 * binary search then finds the first one (a few dozen probes for any gap).
 */
import type Database from 'better-sqlite3';

type Row = Record<string, unknown>;

/** A row of the table, or a range of rowids that could not be read. */
export type Salvaged = { row: Row } | { lost: { from: number; to: number | null; reason: string } };

/** An error of the file's content (a bad page), as opposed to a lock or a missing table. */
export function isCorruption(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' && /^SQLITE_(CORRUPT|NOTADB|IOERR)/.test(code);
}

const FIRST = -(2 ** 53);
const ROWID = '__ocbridge_rowid';

/** Every readable row of `table` in rowid order, with the unreadable ranges between them. */
export function* salvageRows(db: Database.Database, table: string): Generator<Salvaged> {
  const stmt = db.prepare(`SELECT rowid AS ${ROWID}, * FROM ${table} WHERE rowid >= ? ORDER BY rowid`);
  // `rowid >= s` seeks the page that would hold s itself (`rowid > s` seeks s, then steps past it)
  const readableFrom = (s: number): boolean => {
    try {
      stmt.get(s);
      return true;
    } catch (e) {
      if (!isCorruption(e)) throw e;
      return false;
    }
  };
  let from = FIRST;
  for (;;) {
    try {
      for (const r of stmt.iterate(from) as Iterable<Row>) {
        from = Number(r[ROWID]) + 1;
        delete r[ROWID];
        yield { row: r };
      }
      return;
    } catch (e) {
      if (!isCorruption(e)) throw e;
      const next = firstReadable(from, readableFrom, maxRowid(db, table));
      const lost = { from: from === FIRST ? 1 : from, to: next === null ? null : next - 1 };
      yield { lost: { ...lost, reason: (e as Error).message } };
      if (next === null) return;
      from = next;
    }
  }
}

/**
 * The smallest s > `from` (which cannot be read) from which rows can be read again (rows from … s-1
 * are lost), or null when nothing after `from` can be.
 */
function firstReadable(from: number, readableFrom: (s: number) => boolean, max: number): number | null {
  const base = from === FIRST ? 0 : from;
  let lo = base;
  let hi = base;
  for (let step = 1; ; step *= 2) {
    const s = base + step;
    if (readableFrom(s)) {
      hi = s;
      break;
    }
    if (s > max) return null;
    lo = s;
  }
  // readableFrom(lo) is false: narrow down to the first s that is readable
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (readableFrom(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

function maxRowid(db: Database.Database, table: string): number {
  try {
    const r = db.prepare(`SELECT max(rowid) AS m FROM ${table}`).get() as { m: unknown } | undefined;
    return typeof r?.m === 'number' ? r.m : 2 ** 53;
  } catch {
    return 2 ** 53;
  }
}
