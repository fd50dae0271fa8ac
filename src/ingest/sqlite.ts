/**
 * OpenCode's SQLite database (`opencode.db`, `opencode-<channel>.db`): the v1 tables (1.2 … 1.18)
 * and the 2.x tables (`session_v2`, `session_message` with parts inlined in `content[]`).
 * Opened read-only; all reads of one pass run in one read transaction, so a concurrent
 * OpenCode writer (WAL) never gives us a torn view.
 */
import { statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { mapMessage, mapPart, mapProject, mapSession, mapTodos } from './map.ts';
import type { IngestProblem, IngestRecord, Origin, SourceKind } from './records.ts';
import {
  clean,
  json,
  mapBounded,
  mapV2Message,
  num,
  type Push,
  problem,
  projectFromRow,
  type Row,
  sessionFromRow,
  str,
} from './sqlite-rows.ts';
import { isCorruption, salvageRows } from './sqlite-salvage.ts';

export interface DbReadOptions {
  /** Only rows with time_updated >= this (per table), for incremental reads. */
  since?: Partial<Record<DbTable, number>>;
  batchSize?: number;
}

export type DbTable = 'project' | 'session' | 'message' | 'part' | 'todo' | 'session_v2' | 'session_message';

export interface DbBatch {
  table: DbTable;
  source: SourceKind;
  records: IngestRecord[];
  problems: IngestProblem[];
  /** Highest time_updated seen in this batch. */
  highWater: number;
  /**
   * Records read again although the last read may have stored them already: rows at exactly the
   * stored high-water mark (read with `>=`, since rows committed later can share its millisecond),
   * every todo list (no per-row change time) and the rows of a table read again after a bad page.
   * The caller compares them with the store first.
   */
  revisit: Set<IngestRecord>;
}

export class SourceUnreadableError extends Error {}

export function openReadOnly(path: string): Database.Database {
  try {
    const db = new Database(path, { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 5000');
    // touch the schema: a corrupt file or a non-database fails here, not later
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    return db;
  } catch (e) {
    throw new SourceUnreadableError(`cannot open ${path} as SQLite: ${(e as Error).message}`);
  }
}

export function tablesOf(db: Database.Database): Set<string> {
  const rows = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[];
  return new Set(rows.map((r) => r.name));
}

/**
 * One OpenCode database, kept open read-only between reads. A persistent connection matters in live
 * mode: opening and closing a WAL database touches its `-wal` file, which would wake the watcher
 * again, and `PRAGMA data_version` (changes when another connection commits) tells cheaply whether
 * anything was written since the last read. A database replaced by a new file (new inode) is reopened.
 */
export class DatabaseSource {
  private db: Database.Database | null = null;
  private ino = -1;
  private lastVersion = -1;
  /** Set when the file was replaced by another one since the last read: read it again from the start. */
  replaced = false;

  constructor(readonly path: string) {}

  private connection(): Database.Database {
    const ino = inodeOf(this.path);
    if (this.db && ino !== this.ino) {
      this.close();
      this.replaced = true;
    }
    if (!this.db) {
      this.db = openReadOnly(this.path);
      this.ino = ino;
      this.lastVersion = -1;
    }
    return this.db;
  }

  private checkedVersion = -1;

  /** True when another connection committed since the last read (or nothing was read yet). */
  changed(): boolean {
    const db = this.connection();
    this.checkedVersion = Number(db.pragma('data_version', { simple: true }));
    return this.checkedVersion !== this.lastVersion;
  }

  /** The caller found nothing committed as of the last changed() (by the file's fingerprint): count it as read. */
  unchanged(): void {
    this.lastVersion = this.checkedVersion;
  }

  /** Forgets what was read: the next `changed()` is true (a read whose writes were rolled back). */
  forget(): void {
    this.lastVersion = -1;
  }

  /** Reads rows changed since the high-water marks, as batches in dependency order. */
  *read(opts: DbReadOptions = {}): Generator<DbBatch> {
    const db = this.connection();
    this.lastVersion = Number(db.pragma('data_version', { simple: true }));
    yield* readOpenDatabase(db, this.path, opts);
  }

  close(): void {
    this.db?.close();
    this.db = null;
  }
}

function inodeOf(path: string): number {
  try {
    return statSync(path).ino;
  } catch {
    throw new SourceUnreadableError(`cannot open ${path}: it no longer exists`);
  }
}

/**
 * Ends a read transaction: either way releases the snapshot (on a damaged file COMMIT can report the
 * damage again: ROLLBACK releases it then).
 */
function endRead(db: Database.Database): void {
  try {
    if (db.inTransaction) db.prepare('COMMIT').run();
  } catch (e) {
    if (!isCorruption(e)) throw e;
    if (db.inTransaction) db.prepare('ROLLBACK').run();
  }
}

const emptyTodo = (): DbBatch => ({
  table: 'todo',
  source: 'v1',
  records: [],
  problems: [],
  highWater: 0,
  revisit: new Set(),
});

/**
 * Reads an open database. Yields batches in dependency order (projects, sessions, messages, parts,
 * todos), v2 tables first, all inside one read transaction.
 */
function* readOpenDatabase(db: Database.Database, path: string, opts: DbReadOptions): Generator<DbBatch> {
  const batchSize = opts.batchSize ?? 5000;
  const since = opts.since ?? {};
  const tables = tablesOf(db);
  db.prepare('BEGIN').run();
  try {
    const v1: Origin = { source: 'v1', sourcePath: path };
    const v2: Origin = { source: 'v2', sourcePath: path };

    function* scan(
      table: DbTable,
      source: SourceKind,
      map: (r: Row, out: DbBatch) => void,
    ): Generator<DbBatch> {
      if (!tables.has(table)) return;
      const cols = new Set(
        (db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name),
      );
      const hasUpdated = cols.has('time_updated');
      const hw = since[table] ?? 0;
      const sql = hasUpdated
        ? `SELECT * FROM ${table} WHERE time_updated >= ? ORDER BY time_updated`
        : `SELECT * FROM ${table}`;
      const stmt = db.prepare(sql);
      const batch = (highWater: number): DbBatch => ({
        table,
        source,
        records: [],
        problems: [],
        highWater,
        revisit: new Set(),
      });
      let out = batch(hw);
      const marked = since[table] !== undefined;
      const add = (r: Row, again = false) => {
        const tu = num(r.time_updated);
        if (tu !== undefined && tu > out.highWater) out.highWater = tu;
        const first = out.records.length;
        try {
          mapBounded(r, out, map, `${path}#${table}/${String(r.id)}`);
          if (again || (marked && tu === hw))
            for (let i = first; i < out.records.length; i++) out.revisit.add(out.records[i] as IngestRecord);
        } catch (e) {
          out.problems.push(
            problem(
              { source, sourcePath: path },
              table,
              r.id,
              'invalid_record',
              `unmappable row: ${(e as Error).message}`,
            ),
          );
        }
        return out.records.length >= batchSize;
      };
      try {
        for (const r of (hasUpdated ? stmt.iterate(hw) : stmt.iterate()) as Iterable<Row>) {
          if (add(r)) {
            yield out;
            out = batch(out.highWater);
          }
        }
      } catch (e) {
        if (!isCorruption(e)) throw e;
        // a bad page: the table again in rowid order, its unreadable ranges reported (rows already
        // yielded come again: writing a row twice stores it once)
        for (const s of salvageRows(db, table)) {
          if ('lost' in s) {
            const { from, to, reason } = s.lost;
            const ids = `rowid ${from}-${to ?? 'end'}`;
            out.problems.push(
              problem(
                { source, sourcePath: path },
                table,
                ids,
                'unreadable_source',
                `unreadable rows: ${reason}`,
              ),
            );
          } else if (!hasUpdated || (num(s.row.time_updated) ?? hw) >= hw) {
            if (add(s.row, true)) {
              yield out;
              out = batch(out.highWater);
            }
          }
        }
      }
      if (out.records.length > 0 || out.problems.length > 0 || out.highWater > hw) yield out;
    }

    const push: Push = (out, origin, table, id, m) => {
      if (m.record === null) {
        out.problems.push(
          problem(origin, table, id, 'invalid_record', `not a valid ${table}: ${m.issues.join('; ')}`),
        );
        return;
      }
      if (Array.isArray(m.record)) out.records.push(...m.record);
      else out.records.push(m.record);
      if (m.issues.length > 0)
        out.problems.push(
          problem(origin, table, id, 'schema_warning', `schema: ${m.issues.slice(0, 5).join('; ')}`),
        );
    };

    // 2.x tables
    yield* scan('session_v2', 'v2', (r, out) =>
      push(out, v2, 'session_v2', r.id, mapSession(sessionFromRow(r), String(r.id), v2)),
    );
    yield* scan('session_message', 'v2', (r, out) => mapV2Message(r, v2, out, push));
    // v1 tables
    yield* scan('project', 'v1', (r, out) =>
      push(out, v1, 'project', r.id, mapProject(projectFromRow(r), String(r.id), v1)),
    );
    yield* scan('session', 'v1', (r, out) =>
      push(out, v1, 'session', r.id, mapSession(sessionFromRow(r), String(r.id), v1)),
    );
    yield* scan('message', 'v1', (r, out) => {
      const data = json(r.data);
      const obj =
        data && typeof data === 'object' ? { id: r.id, sessionID: r.session_id, ...(data as Row) } : data;
      push(
        out,
        v1,
        'message',
        r.id,
        mapMessage(obj, { messageId: String(r.id), sessionId: String(r.session_id) }, v1),
      );
    });
    yield* scan('part', 'v1', (r, out) => {
      const data = json(r.data);
      const obj =
        data && typeof data === 'object'
          ? { id: r.id, sessionID: r.session_id, messageID: r.message_id, ...(data as Row) }
          : data;
      push(
        out,
        v1,
        'part',
        r.id,
        mapPart(
          obj,
          { partId: String(r.id), messageId: String(r.message_id), sessionId: String(r.session_id) },
          v1,
        ),
      );
    });
    if (tables.has('todo')) {
      // todos are small; re-read whole lists per session so positions stay consistent
      let rows: Row[] = [];
      try {
        rows = db.prepare('SELECT * FROM todo ORDER BY session_id, position').all() as Row[];
      } catch (e) {
        if (!isCorruption(e)) throw e;
        // todo lists are re-read whole: a bad page costs this read's todos, reported
        const reason = `unreadable rows: ${(e as Error).message}`;
        yield { ...emptyTodo(), problems: [problem(v1, 'todo', 'all', 'unreadable_source', reason)] };
      }
      const bySession = new Map<string, Row[]>();
      for (const r of rows) {
        const k = String(r.session_id);
        const list = bySession.get(k) ?? [];
        list.push(r);
        bySession.set(k, list);
      }
      const out = emptyTodo();
      for (const [sid, list] of bySession) {
        const todos = list.map((r) =>
          clean({
            content: str(r.content),
            status: str(r.status),
            priority: str(r.priority),
            position: num(r.position),
          }),
        );
        push(out, v1, 'todo', sid, mapTodos(todos, sid, v1));
      }
      for (const r of out.records) out.revisit.add(r);
      if (out.records.length > 0 || out.problems.length > 0) yield out;
    }
  } finally {
    endRead(db);
  }
}
