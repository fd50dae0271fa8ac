/**
 * SQLite sinks: the 1.2–1.18 "v1" tables (reference §4.2, final state at 1.15.12) and the 2.x
 * `session_v2` / `session_message` tables (reference §6). better-sqlite3, prepared statements,
 * one transaction per session family.
 */
import Database from 'better-sqlite3';
import { TIMELINE } from './catalog.ts';
import type { MessageRec, Obj, PartRec, ProjectRec, RowRec, SessionRec, Tokens } from './types.ts';
import { messageTokens, toV2Row, type V2Row } from './v2.ts';

const V1_DDL = `
CREATE TABLE \`project\` (\`id\` text PRIMARY KEY, \`worktree\` text NOT NULL, \`vcs\` text, \`name\` text, \`icon_url\` text, \`icon_url_override\` text, \`icon_color\` text, \`time_created\` integer NOT NULL, \`time_updated\` integer NOT NULL, \`time_initialized\` integer, \`sandboxes\` text NOT NULL, \`commands\` text);
CREATE TABLE \`session\` (\`id\` text PRIMARY KEY, \`project_id\` text NOT NULL, \`workspace_id\` text, \`parent_id\` text, \`slug\` text NOT NULL, \`directory\` text NOT NULL, \`path\` text, \`title\` text NOT NULL, \`version\` text NOT NULL, \`share_url\` text, \`summary_additions\` integer, \`summary_deletions\` integer, \`summary_files\` integer, \`summary_diffs\` text, \`cost\` real DEFAULT 0 NOT NULL, \`tokens_input\` integer DEFAULT 0 NOT NULL, \`tokens_output\` integer DEFAULT 0 NOT NULL, \`tokens_reasoning\` integer DEFAULT 0 NOT NULL, \`tokens_cache_read\` integer DEFAULT 0 NOT NULL, \`tokens_cache_write\` integer DEFAULT 0 NOT NULL, \`revert\` text, \`permission\` text, \`agent\` text, \`model\` text, \`time_created\` integer NOT NULL, \`time_updated\` integer NOT NULL, \`time_compacting\` integer, \`time_archived\` integer, CONSTRAINT \`fk_session_project_id_project_id_fk\` FOREIGN KEY (\`project_id\`) REFERENCES \`project\`(\`id\`) ON DELETE CASCADE);
CREATE TABLE \`message\` (\`id\` text PRIMARY KEY, \`session_id\` text NOT NULL, \`time_created\` integer NOT NULL, \`time_updated\` integer NOT NULL, \`data\` text NOT NULL, CONSTRAINT \`fk_message_session_id_session_id_fk\` FOREIGN KEY (\`session_id\`) REFERENCES \`session\`(\`id\`) ON DELETE CASCADE);
CREATE TABLE \`part\` (\`id\` text PRIMARY KEY, \`message_id\` text NOT NULL, \`session_id\` text NOT NULL, \`time_created\` integer NOT NULL, \`time_updated\` integer NOT NULL, \`data\` text NOT NULL, CONSTRAINT \`fk_part_message_id_message_id_fk\` FOREIGN KEY (\`message_id\`) REFERENCES \`message\`(\`id\`) ON DELETE CASCADE);
CREATE TABLE \`todo\` (\`session_id\` text NOT NULL, \`content\` text NOT NULL, \`status\` text NOT NULL, \`priority\` text NOT NULL, \`position\` integer NOT NULL, \`time_created\` integer NOT NULL, \`time_updated\` integer NOT NULL, CONSTRAINT \`todo_pk\` PRIMARY KEY(\`session_id\`, \`position\`), CONSTRAINT \`fk_todo_session_id_session_id_fk\` FOREIGN KEY (\`session_id\`) REFERENCES \`session\`(\`id\`) ON DELETE CASCADE);
CREATE TABLE \`permission\` (\`project_id\` text PRIMARY KEY, \`time_created\` integer NOT NULL, \`time_updated\` integer NOT NULL, \`data\` text NOT NULL, CONSTRAINT \`fk_permission_project_id_project_id_fk\` FOREIGN KEY (\`project_id\`) REFERENCES \`project\`(\`id\`) ON DELETE CASCADE);
CREATE TABLE \`session_share\` (\`session_id\` text PRIMARY KEY, \`id\` text NOT NULL, \`secret\` text NOT NULL, \`url\` text NOT NULL, \`time_created\` integer NOT NULL, \`time_updated\` integer NOT NULL, CONSTRAINT \`fk_session_share_session_id_session_id_fk\` FOREIGN KEY (\`session_id\`) REFERENCES \`session\`(\`id\`) ON DELETE CASCADE);
CREATE TABLE \`event_sequence\` (\`aggregate_id\` text PRIMARY KEY, \`seq\` integer NOT NULL, \`owner_id\` text);
CREATE TABLE \`event\` (\`id\` text PRIMARY KEY, \`aggregate_id\` text NOT NULL, \`seq\` integer NOT NULL, \`type\` text NOT NULL, \`data\` text NOT NULL, CONSTRAINT \`fk_event_aggregate_id_event_sequence_aggregate_id_fk\` FOREIGN KEY (\`aggregate_id\`) REFERENCES \`event_sequence\`(\`aggregate_id\`) ON DELETE CASCADE);
CREATE TABLE \`workspace\` (\`id\` text PRIMARY KEY, \`type\` text NOT NULL, \`name\` text DEFAULT '' NOT NULL, \`branch\` text, \`directory\` text, \`extra\` text, \`project_id\` text NOT NULL, \`time_used\` integer NOT NULL, CONSTRAINT \`fk_workspace_project_id_project_id_fk\` FOREIGN KEY (\`project_id\`) REFERENCES \`project\`(\`id\`) ON DELETE CASCADE);
CREATE TABLE \`account\` (\`id\` text PRIMARY KEY, \`email\` text NOT NULL, \`url\` text NOT NULL, \`access_token\` text NOT NULL, \`refresh_token\` text NOT NULL, \`token_expiry\` integer, \`time_created\` integer NOT NULL, \`time_updated\` integer NOT NULL);
CREATE TABLE \`account_state\` (\`id\` integer PRIMARY KEY, \`active_account_id\` text, \`active_org_id\` text, CONSTRAINT \`fk_account_state_active_account_id_account_id_fk\` FOREIGN KEY (\`active_account_id\`) REFERENCES \`account\`(\`id\`) ON DELETE SET NULL);
CREATE TABLE \`control_account\` (\`email\` text NOT NULL, \`url\` text NOT NULL, \`access_token\` text NOT NULL, \`refresh_token\` text NOT NULL, \`token_expiry\` integer, \`active\` integer NOT NULL, \`time_created\` integer NOT NULL, \`time_updated\` integer NOT NULL, CONSTRAINT \`control_account_pk\` PRIMARY KEY(\`email\`, \`url\`));
CREATE TABLE \`data_migration\` (\`name\` text PRIMARY KEY, \`time_completed\` integer NOT NULL);
CREATE INDEX \`session_project_idx\` ON \`session\` (\`project_id\`);
CREATE INDEX \`session_workspace_idx\` ON \`session\` (\`workspace_id\`);
CREATE INDEX \`session_parent_idx\` ON \`session\` (\`parent_id\`);
CREATE INDEX \`message_session_time_created_id_idx\` ON \`message\` (\`session_id\`, \`time_created\`, \`id\`);
CREATE INDEX \`part_message_id_id_idx\` ON \`part\` (\`message_id\`, \`id\`);
CREATE INDEX \`part_session_idx\` ON \`part\` (\`session_id\`);
CREATE INDEX \`todo_session_idx\` ON \`todo\` (\`session_id\`);
`;

/** 1.15–1.18: the precursor table (empty). Replaced by the 2.x table when v2 tables exist. */
const V1_SESSION_MESSAGE = `
CREATE TABLE \`session_message\` (\`id\` text PRIMARY KEY, \`session_id\` text NOT NULL, \`type\` text NOT NULL, \`time_created\` integer NOT NULL, \`time_updated\` integer NOT NULL, \`data\` text NOT NULL, CONSTRAINT \`fk_session_message_session_id_session_id_fk\` FOREIGN KEY (\`session_id\`) REFERENCES \`session\`(\`id\`) ON DELETE CASCADE);
`;

const V2_DDL = `
CREATE TABLE \`session_v2\` (\`id\` text PRIMARY KEY, \`project_id\` text NOT NULL, \`workspace_id\` text, \`parent_id\` text, \`fork_session_id\` text, \`fork_boundary\` text, \`slug\` text NOT NULL, \`directory\` text NOT NULL, \`path\` text, \`title\` text, \`version\` text NOT NULL, \`share_url\` text, \`summary_additions\` integer, \`summary_deletions\` integer, \`summary_files\` integer, \`summary_diffs\` text, \`metadata\` text, \`cost\` real DEFAULT 0 NOT NULL, \`tokens_input\` integer DEFAULT 0 NOT NULL, \`tokens_output\` integer DEFAULT 0 NOT NULL, \`tokens_reasoning\` integer DEFAULT 0 NOT NULL, \`tokens_cache_read\` integer DEFAULT 0 NOT NULL, \`tokens_cache_write\` integer DEFAULT 0 NOT NULL, \`revert\` text, \`permission\` text, \`agent\` text, \`model\` text, \`time_created\` integer NOT NULL, \`time_updated\` integer NOT NULL, \`time_compacting\` integer, \`time_archived\` integer, \`time_idle\` integer, \`time_viewed\` integer, \`idle_outcome\` text, \`time_suspended\` integer, \`resume_attempts\` integer DEFAULT 0 NOT NULL, CONSTRAINT \`fk_session_v2_project_id_project_id_fk\` FOREIGN KEY (\`project_id\`) REFERENCES \`project\`(\`id\`) ON DELETE CASCADE);
CREATE TABLE \`session_message\` (\`id\` text PRIMARY KEY, \`session_id\` text NOT NULL, \`type\` text NOT NULL, \`seq\` integer NOT NULL, \`time_created\` integer NOT NULL, \`time_updated\` integer NOT NULL, \`data\` text NOT NULL, CONSTRAINT \`fk_session_message_session_id_session_v2_id_fk\` FOREIGN KEY (\`session_id\`) REFERENCES \`session_v2\`(\`id\`) ON DELETE CASCADE);
CREATE INDEX \`session_v2_project_idx\` ON \`session_v2\` (\`project_id\`);
CREATE INDEX \`session_v2_parent_idx\` ON \`session_v2\` (\`parent_id\`);
CREATE UNIQUE INDEX \`session_message_session_seq_idx\` ON \`session_message\` (\`session_id\`, \`seq\`);
CREATE INDEX \`session_message_session_type_seq_idx\` ON \`session_message\` (\`session_id\`, \`type\`, \`seq\`);
CREATE INDEX \`session_message_time_created_idx\` ON \`session_message\` (\`time_created\`);
`;

const json = (v: unknown): string | null => (v === undefined || v === null ? null : JSON.stringify(v));

function omit(o: Obj, keys: readonly string[]): Obj {
  const out: Obj = {};
  for (const k of Object.keys(o)) if (!keys.includes(k)) out[k] = o[k];
  return out;
}

export interface Usage {
  cost: number;
  tokens: Tokens;
}

/** Session aggregate as the session_usage columns hold it (sum over the given messages' steps). */
export function usageOf(rows: readonly RowRec[]): Usage {
  const u: Usage = { cost: 0, tokens: { input: 0, output: 0, reasoning: 0, cache: { read: 0, write: 0 } } };
  for (const r of rows) {
    if (r.kind !== 'message' || r.info.role !== 'assistant') continue;
    const t = messageTokens(r);
    u.cost += r.info.cost as number;
    u.tokens.input += t.input;
    u.tokens.output += t.output;
    u.tokens.reasoning += t.reasoning;
    u.tokens.cache.read += t.cache.read;
    u.tokens.cache.write += t.cache.write;
  }
  return u;
}

function partTimes(p: PartRec, msgCreated: number): [number, number] {
  const st = p.state as { time?: { start?: number; end?: number } } | undefined;
  const t = p.time as { start?: number; end?: number; created?: number } | undefined;
  const start = st?.time?.start ?? t?.start ?? t?.created ?? msgCreated;
  const end = st?.time?.end ?? t?.end ?? start;
  return [start, end];
}

function lastRowTime(rows: readonly RowRec[], fallback: number): number {
  let t = fallback;
  for (const r of rows)
    t = Math.max(t, r.kind === 'event' ? r.time : (r.info.time.completed ?? r.info.time.created));
  return t;
}

export interface SqliteCounts {
  projects: number;
  sessions: number;
  messages: number;
  parts: number;
  todos: number;
}

export class SqliteSink {
  private readonly db: Database.Database;
  readonly v1: SqliteCounts = { projects: 0, sessions: 0, messages: 0, parts: 0, todos: 0 };
  readonly v2 = { sessions: 0, rows: 0 };
  private readonly projects = new Set<string>();
  private readonly st: Record<string, Database.Statement>;

  constructor(
    readonly path: string,
    readonly withV2: boolean,
  ) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = OFF');
    this.db.pragma('foreign_keys = ON');
    this.db.exec(V1_DDL);
    this.db.exec(withV2 ? V2_DDL : V1_SESSION_MESSAGE);
    const p = (sql: string) => this.db.prepare(sql);
    this.st = {
      project: p(
        'INSERT INTO project (id, worktree, vcs, name, icon_url, icon_url_override, icon_color, time_created, time_updated, time_initialized, sandboxes, commands) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)',
      ),
      session: p(
        'INSERT INTO session (id, project_id, workspace_id, parent_id, slug, directory, path, title, version, share_url, summary_additions, summary_deletions, summary_files, summary_diffs, cost, tokens_input, tokens_output, tokens_reasoning, tokens_cache_read, tokens_cache_write, revert, permission, agent, model, time_created, time_updated, time_compacting, time_archived) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)',
      ),
      message: p('INSERT INTO message (id, session_id, time_created, time_updated, data) VALUES (?,?,?,?,?)'),
      part: p(
        'INSERT INTO part (id, message_id, session_id, time_created, time_updated, data) VALUES (?,?,?,?,?,?)',
      ),
      todo: p(
        'INSERT INTO todo (session_id, content, status, priority, position, time_created, time_updated) VALUES (?,?,?,?,?,?,?)',
      ),
      dataMigration: p('INSERT INTO data_migration (name, time_completed) VALUES (?,?)'),
      ...(withV2
        ? {
            sessionV2: p(
              'INSERT INTO session_v2 (id, project_id, workspace_id, parent_id, fork_session_id, fork_boundary, slug, directory, path, title, version, share_url, summary_additions, summary_deletions, summary_files, summary_diffs, metadata, cost, tokens_input, tokens_output, tokens_reasoning, tokens_cache_read, tokens_cache_write, revert, permission, agent, model, time_created, time_updated, time_compacting, time_archived, time_idle, time_viewed, idle_outcome, time_suspended, resume_attempts) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)',
            ),
            sessionMessage: p(
              'INSERT INTO session_message (id, session_id, type, seq, time_created, time_updated, data) VALUES (?,?,?,?,?,?,?)',
            ),
          }
        : {}),
    };
  }

  transaction(fn: () => void): void {
    this.db.transaction(fn)();
  }

  hasProject(id: string): boolean {
    return this.projects.has(id);
  }

  insertProject(p: ProjectRec): void {
    if (this.projects.has(p.id)) return;
    this.projects.add(p.id);
    this.st.project!.run(
      p.id,
      p.worktree,
      p.vcs ?? null,
      p.name ?? null,
      null,
      null,
      p.icon?.color ?? null,
      p.time.created,
      p.time.updated,
      p.time.initialized ?? null,
      JSON.stringify(p.sandboxes),
      null,
    );
    this.v1.projects++;
  }

  /**
   * v1 tables. `importer`: the 1.2 JSON→SQLite import copy (session cost/tokens 0, part times = import time
   * unless the part has time.created). Otherwise a native 1.2–1.18 write. Rows that exist only in 2.x are skipped.
   */
  insertV1Session(s: SessionRec, importer: boolean): { messages: number; parts: number; todos: number } {
    const info = s.info as Obj & SessionRec['info'];
    const rows = s.rows.filter((r): r is MessageRec => r.kind === 'message' && !r.v2Only);
    const hasUsage = !importer && info.time.created >= TIMELINE.sessionUsageColumns;
    const usage = hasUsage
      ? usageOf(rows)
      : { cost: 0, tokens: { input: 0, output: 0, reasoning: 0, cache: { read: 0, write: 0 } } };
    const summary = info.summary as { additions: number; deletions: number; files: number } | undefined;
    const timeUpdated = importer ? info.time.updated : lastRowTime(rows, info.time.created);
    const sharePath = !importer && info.time.created >= Date.parse('2026-04-28') && info.directory.length > 0;
    this.st.session!.run(
      info.id,
      info.projectID,
      null,
      info.parentID ?? null,
      (info.slug as string | undefined) ?? '',
      info.directory,
      sharePath ? relPath(info.directory, s) : null,
      info.title,
      info.version,
      (info.share as { url?: string } | undefined)?.url ?? null,
      summary?.additions ?? null,
      summary?.deletions ?? null,
      summary?.files ?? null,
      null,
      usage.cost,
      usage.tokens.input,
      usage.tokens.output,
      usage.tokens.reasoning,
      usage.tokens.cache.read,
      usage.tokens.cache.write,
      json(info.revert),
      json(info.permission),
      (info.agent as string | undefined) ?? null,
      json(info.model),
      info.time.created,
      timeUpdated,
      null,
      info.time.archived ?? null,
    );
    let parts = 0;
    const importTime = TIMELINE.sqliteImport;
    for (const m of rows) {
      const created = m.info.time.created;
      const updated = importer ? created : (m.info.time.completed ?? created);
      this.st.message!.run(
        m.info.id,
        info.id,
        created,
        updated,
        JSON.stringify(omit(m.info, ['id', 'sessionID'])),
      );
      for (const p of m.parts) {
        let t0: number;
        let t1: number;
        if (importer) {
          const c = (p.time as { created?: number } | undefined)?.created;
          t0 = c ?? importTime;
          t1 = t0;
        } else {
          [t0, t1] = partTimes(p, created);
        }
        this.st.part!.run(
          p.id,
          m.info.id,
          info.id,
          t0,
          t1,
          JSON.stringify(omit(p, ['id', 'sessionID', 'messageID'])),
        );
        parts++;
      }
    }
    let todos = 0;
    if (s.todos) {
      s.todos.forEach((t, i) => {
        this.st.todo!.run(
          info.id,
          t.content,
          t.status,
          t.priority,
          i,
          importer ? importTime : timeUpdated,
          importer ? importTime : timeUpdated,
        );
      });
      todos = s.todos.length;
    }
    this.v1.sessions++;
    this.v1.messages += rows.length;
    this.v1.parts += parts;
    this.v1.todos += todos;
    return { messages: rows.length, parts, todos };
  }

  /** 2.x tables: every row of the session (including 2.x-only rows) with seq 0…n-1. */
  insertV2Session(s: SessionRec): V2Row[] {
    if (!this.withV2) throw new Error('v2 tables not enabled');
    const info = s.info as Obj & SessionRec['info'];
    const usage = usageOf(s.rows);
    const summary = info.summary as { additions: number; deletions: number; files: number } | undefined;
    const first = s.rows.find((r): r is MessageRec => r.kind === 'message' && r.info.role === 'assistant');
    const model =
      (info.model as Obj | undefined) ??
      (first ? { id: first.info.modelID, providerID: first.info.providerID } : null);
    const agent = (info.agent as string | undefined) ?? (first?.info.agent as string | undefined) ?? null;
    const updated = lastRowTime(s.rows, info.time.created);
    this.st.sessionV2!.run(
      info.id,
      info.projectID,
      null,
      info.parentID ?? null,
      null,
      null,
      (info.slug as string | undefined) ?? '',
      info.directory,
      relPath(info.directory, s),
      info.title === '' ? null : info.title,
      info.version,
      (info.share as { url?: string } | undefined)?.url ?? null,
      summary?.additions ?? null,
      summary?.deletions ?? null,
      summary?.files ?? null,
      null,
      null,
      usage.cost,
      usage.tokens.input,
      usage.tokens.output,
      usage.tokens.reasoning,
      usage.tokens.cache.read,
      usage.tokens.cache.write,
      json(info.revert),
      json(info.permission),
      agent,
      json(model),
      info.time.created,
      updated,
      null,
      info.time.archived ?? null,
      updated,
      null,
      'completed',
      null,
      0,
    );
    const out: V2Row[] = [];
    s.rows.forEach((r, seq) => {
      const row = toV2Row(r);
      this.st.sessionMessage!.run(
        row.id,
        row.sessionID,
        row.type,
        seq,
        row.timeCreated,
        row.timeUpdated,
        JSON.stringify(row.data),
      );
      out.push(row);
    });
    this.v2.sessions++;
    this.v2.rows += out.length;
    return out;
  }

  markDataMigration(name: string, time: number): void {
    this.st.dataMigration!.run(name, time);
  }

  close(): void {
    this.db.pragma('wal_checkpoint(TRUNCATE)');
    this.db.close();
  }
}

function relPath(directory: string, s: SessionRec): string {
  const root = s.rows.find((r): r is MessageRec => r.kind === 'message' && r.info.role === 'assistant')?.info
    .path as { root?: string } | undefined;
  const r = root?.root;
  if (!r || !directory.startsWith(r)) return '';
  return directory.slice(r.length).replace(/^\//, '');
}
