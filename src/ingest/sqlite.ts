/**
 * OpenCode's SQLite database (`opencode.db`, `opencode-<channel>.db`): the v1 tables (1.2 … 1.18)
 * and the 2.x tables (`session_v2`, `session_message` with parts inlined in `content[]`).
 * Opened read-only; all reads of one pass run in one read transaction, so a concurrent
 * OpenCode writer (WAL) never gives us a torn view.
 */
import { statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { mapMessage, mapPart, mapProject, mapSession, mapTodos } from './map.ts';
import type { IngestProblem, IngestProblemCode, IngestRecord, Origin, SourceKind } from './records.ts';

type Row = Record<string, unknown>;

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
   * stored high-water mark (read with `>=`, since rows committed later can share its millisecond) and
   * every todo list (no per-row change time). The caller compares them with the store first.
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

const num = (v: unknown): number | undefined =>
  typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : undefined;
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function json(v: unknown): unknown {
  if (typeof v !== 'string') return undefined;
  try {
    return JSON.parse(v);
  } catch {
    return undefined;
  }
}

/** Drops undefined values so the rebuilt object looks like the JSON OpenCode would have written. */
function clean<T extends Row>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

const SESSION_KNOWN = new Set([
  'id',
  'project_id',
  'workspace_id',
  'parent_id',
  'slug',
  'directory',
  'path',
  'title',
  'version',
  'share_url',
  'summary_additions',
  'summary_deletions',
  'summary_files',
  'summary_diffs',
  'cost',
  'tokens_input',
  'tokens_output',
  'tokens_reasoning',
  'tokens_cache_read',
  'tokens_cache_write',
  'revert',
  'permission',
  'agent',
  'model',
  'time_created',
  'time_updated',
  'time_compacting',
  'time_archived',
]);

/** Rebuilds Session.Info from the session columns; columns we don't know are kept under their own names. */
export function sessionFromRow(r: Row): Row {
  const extra: Row = {};
  for (const [k, v] of Object.entries(r)) if (!SESSION_KNOWN.has(k)) extra[k] = v;
  const hasSummary = r.summary_additions != null || r.summary_deletions != null || r.summary_files != null;
  return clean({
    id: str(r.id),
    slug: str(r.slug),
    projectID: str(r.project_id),
    workspaceID: str(r.workspace_id) ?? undefined,
    directory: str(r.directory),
    path: str(r.path) ?? undefined,
    parentID: str(r.parent_id) ?? undefined,
    summary: hasSummary
      ? clean({
          additions: num(r.summary_additions),
          deletions: num(r.summary_deletions),
          files: num(r.summary_files),
          diffs: json(r.summary_diffs),
        })
      : undefined,
    cost: num(r.cost),
    tokens:
      r.tokens_input !== undefined
        ? {
            input: num(r.tokens_input),
            output: num(r.tokens_output),
            reasoning: num(r.tokens_reasoning),
            cache: { read: num(r.tokens_cache_read), write: num(r.tokens_cache_write) },
          }
        : undefined,
    share: str(r.share_url) ? { url: str(r.share_url) } : undefined,
    title: str(r.title),
    agent: str(r.agent),
    model: json(r.model),
    version: str(r.version),
    time: clean({
      created: num(r.time_created),
      updated: num(r.time_updated),
      compacting: num(r.time_compacting) ?? undefined,
      archived: num(r.time_archived) ?? undefined,
    }),
    permission: json(r.permission),
    revert: json(r.revert),
    ...extra,
  });
}

function projectFromRow(r: Row): Row {
  return clean({
    id: str(r.id),
    worktree: str(r.worktree),
    vcs: str(r.vcs) ?? undefined,
    name: str(r.name) ?? undefined,
    icon:
      r.icon_url != null || r.icon_color != null || r.icon_url_override != null
        ? clean({ url: str(r.icon_url), override: str(r.icon_url_override), color: str(r.icon_color) })
        : undefined,
    commands: json(r.commands),
    time: clean({
      created: num(r.time_created),
      updated: num(r.time_updated),
      initialized: num(r.time_initialized) ?? undefined,
    }),
    sandboxes: json(r.sandboxes),
  });
}

function problem(
  origin: Origin,
  table: string,
  id: unknown,
  code: IngestProblemCode,
  reason: string,
): IngestProblem {
  const severity = code === 'schema_warning' ? 'warning' : 'error';
  return { sourcePath: `${origin.sourcePath}#${table}/${String(id)}`, code, reason, severity };
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
      for (const r of (hasUpdated ? stmt.iterate(hw) : stmt.iterate()) as Iterable<Row>) {
        const tu = num(r.time_updated);
        if (tu !== undefined && tu > out.highWater) out.highWater = tu;
        const first = out.records.length;
        try {
          map(r, out);
          if (marked && tu === hw)
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
        if (out.records.length >= batchSize) {
          yield out;
          out = batch(out.highWater);
        }
      }
      if (out.records.length > 0 || out.problems.length > 0 || out.highWater > hw) yield out;
    }

    const push = (
      out: DbBatch,
      origin: Origin,
      table: string,
      id: unknown,
      m: { record: IngestRecord | IngestRecord[] | null; issues: string[] },
    ) => {
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
      const rows = db.prepare('SELECT * FROM todo ORDER BY session_id, position').all() as Row[];
      const bySession = new Map<string, Row[]>();
      for (const r of rows) {
        const k = String(r.session_id);
        const list = bySession.get(k) ?? [];
        list.push(r);
        bySession.set(k, list);
      }
      const out: DbBatch = {
        table: 'todo',
        source: 'v1',
        records: [],
        problems: [],
        highWater: 0,
        revisit: new Set(),
      };
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
    // a read transaction: ending it either way releases the snapshot
    if (db.inTransaction) db.prepare('COMMIT').run();
  }
}

/**
 * 2.x rows without `content[]` still carry what v1 kept as parts: a user's or synthetic message's
 * `text` and `files`, and a compaction request. They become the same part types as in v1.
 */
function inlineItems(type: string, d: Row): Row[] {
  const items: Row[] = [];
  if (type === 'compaction') items.push({ type: 'compaction', auto: d.auto, overflow: d.overflow });
  if (typeof d.text === 'string')
    items.push({ type: 'text', text: d.text, synthetic: type === 'synthetic' ? true : undefined });
  if (Array.isArray(d.files))
    for (const f of d.files) if (f && typeof f === 'object') items.push({ type: 'file', ...(f as Row) });
  return items;
}

/**
 * A 2.x `session_message` row: role in `type`, parts inlined in `data.content[]`.
 * Inlined parts get the ID `<message id>/<index>`; an item's own `id` (the call ID for tool items)
 * is kept as `contentID` (and as `callID` for tools).
 */
function mapV2Message(
  r: Row,
  origin: Origin,
  out: DbBatch,
  push: (
    out: DbBatch,
    origin: Origin,
    table: string,
    id: unknown,
    m: { record: IngestRecord | IngestRecord[] | null; issues: string[] },
  ) => void,
): void {
  const id = String(r.id);
  const sessionId = String(r.session_id);
  const data = json(r.data);
  if (!data || typeof data !== 'object') {
    out.problems.push(problem(origin, 'session_message', id, 'invalid_record', 'data is not a JSON object'));
    return;
  }
  const d = data as Row;
  const model = d.model as Row | undefined;
  const { content, ...rest } = d;
  const obj: Row = {
    id,
    sessionID: sessionId,
    role: str(r.type),
    seq: num(r.seq),
    ...rest,
    modelID: str(d.modelID) ?? str(model?.id) ?? str(model?.modelID),
    providerID: str(d.providerID) ?? str(model?.providerID),
  };
  if (obj.time === undefined) obj.time = { created: num(r.time_created) };
  push(
    out,
    origin,
    'session_message',
    id,
    mapMessage(clean(obj), { messageId: id, sessionId }, origin, str(r.type)),
  );
  const items = Array.isArray(content) ? content : inlineItems(String(r.type), d);
  if (items.length > 0) {
    items.forEach((item, i) => {
      if (!item || typeof item !== 'object') return;
      const it = item as Row;
      const partId = `${id}/${i}`;
      const part: Row = { ...it, id: partId, sessionID: sessionId, messageID: id };
      if (typeof it.id === 'string') part.contentID = it.id;
      if (it.type === 'tool' && it.callID === undefined && typeof it.id === 'string') part.callID = it.id;
      push(
        out,
        origin,
        'session_message.content',
        partId,
        mapPart(part, { partId, messageId: id, sessionId }, origin),
      );
    });
  }
}
