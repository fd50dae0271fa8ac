/** Builds small OpenCode data dirs for rule tests: JSON tree files, v1 tables and 2.x tables. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';

export function tempDir(prefix = 'ocb-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Writes `storage/<rel>` as OpenCode does (2-space pretty JSON), or raw text when given a string. */
export function writeStorage(dataDir: string, rel: string, content: unknown): string {
  const p = join(dataDir, 'storage', rel);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return p;
}

/** The v1 tables of OpenCode 1.2 … 1.18 (reference §4.2), enough columns for the ingester. */
export const V1_DDL = `
CREATE TABLE project (id TEXT PRIMARY KEY, worktree TEXT NOT NULL, vcs TEXT, name TEXT, icon_url TEXT, icon_url_override TEXT,
  icon_color TEXT, time_created INTEGER NOT NULL, time_updated INTEGER NOT NULL, time_initialized INTEGER, sandboxes TEXT NOT NULL, commands TEXT);
CREATE TABLE session (id TEXT PRIMARY KEY, project_id TEXT NOT NULL, workspace_id TEXT, parent_id TEXT, slug TEXT NOT NULL,
  directory TEXT NOT NULL, path TEXT, title TEXT NOT NULL, version TEXT NOT NULL, share_url TEXT, summary_additions INTEGER,
  summary_deletions INTEGER, summary_files INTEGER, summary_diffs TEXT, cost REAL NOT NULL DEFAULT 0, tokens_input INTEGER NOT NULL DEFAULT 0,
  tokens_output INTEGER NOT NULL DEFAULT 0, tokens_reasoning INTEGER NOT NULL DEFAULT 0, tokens_cache_read INTEGER NOT NULL DEFAULT 0,
  tokens_cache_write INTEGER NOT NULL DEFAULT 0, revert TEXT, permission TEXT, agent TEXT, model TEXT,
  time_created INTEGER NOT NULL, time_updated INTEGER NOT NULL, time_compacting INTEGER, time_archived INTEGER);
CREATE TABLE message (id TEXT PRIMARY KEY, session_id TEXT NOT NULL, time_created INTEGER NOT NULL, time_updated INTEGER NOT NULL, data TEXT NOT NULL);
CREATE TABLE part (id TEXT PRIMARY KEY, message_id TEXT NOT NULL, session_id TEXT NOT NULL, time_created INTEGER NOT NULL,
  time_updated INTEGER NOT NULL, data TEXT NOT NULL);
CREATE TABLE todo (session_id TEXT NOT NULL, content TEXT NOT NULL, status TEXT NOT NULL, priority TEXT NOT NULL, position INTEGER NOT NULL,
  time_created INTEGER NOT NULL, time_updated INTEGER NOT NULL, PRIMARY KEY (session_id, position));
CREATE TABLE session_input (id TEXT PRIMARY KEY, data TEXT);
`;

export const V2_DDL = `
CREATE TABLE session_v2 (id TEXT PRIMARY KEY, project_id TEXT NOT NULL, workspace_id TEXT, parent_id TEXT, slug TEXT NOT NULL,
  directory TEXT NOT NULL, path TEXT, title TEXT, version TEXT NOT NULL, share_url TEXT, summary_additions INTEGER,
  summary_deletions INTEGER, summary_files INTEGER, summary_diffs TEXT, cost REAL NOT NULL DEFAULT 0, tokens_input INTEGER NOT NULL DEFAULT 0,
  tokens_output INTEGER NOT NULL DEFAULT 0, tokens_reasoning INTEGER NOT NULL DEFAULT 0, tokens_cache_read INTEGER NOT NULL DEFAULT 0,
  tokens_cache_write INTEGER NOT NULL DEFAULT 0, revert TEXT, permission TEXT, agent TEXT, model TEXT,
  time_created INTEGER NOT NULL, time_updated INTEGER NOT NULL, time_compacting INTEGER, time_archived INTEGER,
  fork_session_id TEXT, fork_boundary TEXT, metadata TEXT, time_idle INTEGER, time_viewed INTEGER, idle_outcome TEXT,
  time_suspended INTEGER, resume_attempts INTEGER DEFAULT 0);
CREATE TABLE session_message (id TEXT PRIMARY KEY, session_id TEXT NOT NULL, type TEXT NOT NULL, seq INTEGER NOT NULL,
  time_created INTEGER NOT NULL, time_updated INTEGER NOT NULL, data TEXT NOT NULL);
`;

export interface SessionRow {
  id: string;
  project_id?: string;
  parent_id?: string | null;
  title?: string;
  time_created?: number;
  time_updated?: number;
}

export class FakeDb {
  readonly db: Database.Database;
  constructor(
    readonly path: string,
    ddl: string[] = [V1_DDL],
  ) {
    mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    for (const d of ddl) this.db.exec(d);
  }
  project(id: string, worktree = '/w', t = 1_767_312_000_000): this {
    this.db
      .prepare(
        'INSERT INTO project (id, worktree, vcs, time_created, time_updated, sandboxes) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .run(id, worktree, 'git', t, t, '[]');
    return this;
  }
  session(s: SessionRow, table = 'session'): this {
    const t = s.time_created ?? 1_767_312_000_000;
    this.db
      .prepare(
        `INSERT OR REPLACE INTO ${table} (id, project_id, parent_id, slug, directory, title, version, time_created, time_updated)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        s.id,
        s.project_id ?? 'proj1',
        s.parent_id ?? null,
        'slug',
        '/w',
        s.title ?? 'title',
        '1.18.33',
        t,
        s.time_updated ?? t,
      );
    return this;
  }
  message(id: string, sessionId: string, data: Record<string, unknown>, t = 1_767_312_000_000, tu = t): this {
    this.db
      .prepare('INSERT OR REPLACE INTO message VALUES (?, ?, ?, ?, ?)')
      .run(id, sessionId, t, tu, JSON.stringify(data));
    return this;
  }
  part(
    id: string,
    messageId: string,
    sessionId: string,
    data: Record<string, unknown>,
    t = 1_767_312_000_000,
    tu = t,
  ): this {
    this.db
      .prepare('INSERT OR REPLACE INTO part VALUES (?, ?, ?, ?, ?, ?)')
      .run(id, messageId, sessionId, t, tu, JSON.stringify(data));
    return this;
  }
  v2Message(
    id: string,
    sessionId: string,
    type: string,
    seq: number,
    data: Record<string, unknown>,
    t = 1_767_312_000_000,
  ): this {
    this.db
      .prepare('INSERT OR REPLACE INTO session_message VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(id, sessionId, type, seq, t, t, JSON.stringify(data));
    return this;
  }
  close(): void {
    this.db.close();
  }
}
