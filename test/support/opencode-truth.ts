/**
 * Reads what OpenCode itself wrote in a data dir – the `storage/` JSON tree and every `opencode*.db`
 * (opened read-only, WAL included) – and merges it by ID (v1 DB row wins over JSON).
 * This is the independent "truth" the contract test compares our DuckDB store against.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import Database from 'better-sqlite3';

export type Json = Record<string, unknown>;

export interface TruthSession {
  id: string;
  projectId: string | undefined;
  parentId: string | undefined;
  title: string | undefined;
  version: string | undefined;
  source: 'json' | 'db';
  data: Json;
}

export interface TruthMessage {
  id: string;
  sessionId: string;
  source: 'json' | 'db';
  data: Json;
}

export interface TruthPart {
  id: string;
  messageId: string;
  sessionId: string;
  source: 'json' | 'db';
  data: Json;
}

export interface Tokens {
  input: number;
  output: number;
  reasoning: number;
  cacheRead: number;
  cacheWrite: number;
}

export interface Truth {
  sessions: Map<string, TruthSession>;
  messages: Map<string, TruthMessage>;
  parts: Map<string, TruthPart>;
  /** IDs seen in the JSON tree and in a DB (before merging). */
  jsonIds: { sessions: Set<string>; messages: Set<string>; parts: Set<string> };
  dbIds: { sessions: Set<string>; messages: Set<string>; parts: Set<string> };
  dbFiles: string[];
  /** Tables per DB file. */
  dbTables: Record<string, string[]>;
  /** Files that could not be parsed (OpenCode writes JSON non-atomically). */
  unreadable: string[];
}

function readJson(file: string, unreadable: string[]): Json | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Json;
  } catch {
    unreadable.push(file);
    return undefined;
  }
}

function listDir(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir) : [];
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export function readTruth(dataDir: string): Truth {
  const t: Truth = {
    sessions: new Map(),
    messages: new Map(),
    parts: new Map(),
    jsonIds: { sessions: new Set(), messages: new Set(), parts: new Set() },
    dbIds: { sessions: new Set(), messages: new Set(), parts: new Set() },
    dbFiles: [],
    dbTables: {},
    unreadable: [],
  };

  // --- G1 JSON tree. IDs come from file/dir names, like OpenCode's own importer.
  const storage = join(dataDir, 'storage');
  for (const project of listDir(join(storage, 'session'))) {
    for (const f of listDir(join(storage, 'session', project))) {
      if (!f.endsWith('.json')) continue;
      const data = readJson(join(storage, 'session', project, f), t.unreadable);
      if (!data) continue;
      const id = basename(f, '.json');
      t.jsonIds.sessions.add(id);
      t.sessions.set(id, {
        id,
        projectId: project,
        parentId: str(data.parentID),
        title: str(data.title),
        version: str(data.version),
        source: 'json',
        data,
      });
    }
  }
  for (const ses of listDir(join(storage, 'message'))) {
    for (const f of listDir(join(storage, 'message', ses))) {
      if (!f.endsWith('.json')) continue;
      const data = readJson(join(storage, 'message', ses, f), t.unreadable);
      if (!data) continue;
      const id = basename(f, '.json');
      t.jsonIds.messages.add(id);
      t.messages.set(id, { id, sessionId: ses, source: 'json', data });
    }
  }
  for (const msg of listDir(join(storage, 'part'))) {
    for (const f of listDir(join(storage, 'part', msg))) {
      if (!f.endsWith('.json')) continue;
      const data = readJson(join(storage, 'part', msg, f), t.unreadable);
      if (!data) continue;
      const id = basename(f, '.json');
      t.jsonIds.parts.add(id);
      t.parts.set(id, { id, messageId: msg, sessionId: str(data.sessionID) ?? '', source: 'json', data });
    }
  }

  // --- G2 SQLite (v1 tables). The DB row wins over the JSON file.
  const dbFiles = listDir(dataDir)
    .filter((f) => /^opencode.*\.db$/.test(f))
    .sort();
  for (const f of dbFiles) {
    const file = join(dataDir, f);
    t.dbFiles.push(file);
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      const tables = (
        db.prepare("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name").all() as {
          name: string;
        }[]
      ).map((r) => r.name);
      t.dbTables[f] = tables;
      if (tables.includes('session')) {
        const rows = db
          .prepare(
            'SELECT id, project_id, parent_id, title, version, time_created, time_updated FROM session',
          )
          .all() as {
          id: string;
          project_id: string;
          parent_id: string | null;
          title: string;
          version: string;
        }[];
        for (const r of rows) {
          t.dbIds.sessions.add(r.id);
          t.sessions.set(r.id, {
            id: r.id,
            projectId: r.project_id,
            parentId: r.parent_id ?? undefined,
            title: r.title,
            version: r.version,
            source: 'db',
            data: r as unknown as Json,
          });
        }
      }
      if (tables.includes('message')) {
        const rows = db.prepare('SELECT id, session_id, data FROM message').all() as {
          id: string;
          session_id: string;
          data: string;
        }[];
        for (const r of rows) {
          t.dbIds.messages.add(r.id);
          t.messages.set(r.id, {
            id: r.id,
            sessionId: r.session_id,
            source: 'db',
            data: { ...(JSON.parse(r.data) as Json), id: r.id, sessionID: r.session_id },
          });
        }
      }
      if (tables.includes('part')) {
        const rows = db.prepare('SELECT id, message_id, session_id, data FROM part').all() as {
          id: string;
          message_id: string;
          session_id: string;
          data: string;
        }[];
        for (const r of rows) {
          t.dbIds.parts.add(r.id);
          t.parts.set(r.id, {
            id: r.id,
            messageId: r.message_id,
            sessionId: r.session_id,
            source: 'db',
            data: {
              ...(JSON.parse(r.data) as Json),
              id: r.id,
              messageID: r.message_id,
              sessionID: r.session_id,
            },
          });
        }
      }
      // OpenCode 2.x (session_v2 / session_message) is not published on npm as of this writing;
      // when it is, read it here (v2 > v1 DB > JSON).
    } finally {
      db.close();
    }
  }
  return t;
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

export function tokensOf(tokens: unknown): Tokens {
  const tk = (tokens ?? {}) as {
    input?: unknown;
    output?: unknown;
    reasoning?: unknown;
    cache?: { read?: unknown; write?: unknown };
  };
  return {
    input: num(tk.input),
    output: num(tk.output),
    reasoning: num(tk.reasoning),
    cacheRead: num(tk.cache?.read),
    cacheWrite: num(tk.cache?.write),
  };
}

export function partsByMessage(t: Truth): Map<string, TruthPart[]> {
  const m = new Map<string, TruthPart[]>();
  for (const p of t.parts.values()) {
    const list = m.get(p.messageId) ?? [];
    list.push(p);
    m.set(p.messageId, list);
  }
  return m;
}

/** Tokens of a message: the sum of its step-finish parts if it has any, else its own `tokens`. */
export function messageTokens(t: Truth, byMessage = partsByMessage(t)): Map<string, Tokens> {
  const out = new Map<string, Tokens>();
  for (const msg of t.messages.values()) {
    const steps = (byMessage.get(msg.id) ?? []).filter((p) => p.data.type === 'step-finish');
    if (steps.length === 0) {
      out.set(msg.id, tokensOf(msg.data.tokens));
      continue;
    }
    const sum: Tokens = { input: 0, output: 0, reasoning: 0, cacheRead: 0, cacheWrite: 0 };
    for (const s of steps) {
      const k = tokensOf(s.data.tokens);
      sum.input += k.input;
      sum.output += k.output;
      sum.reasoning += k.reasoning;
      sum.cacheRead += k.cacheRead;
      sum.cacheWrite += k.cacheWrite;
    }
    out.set(msg.id, sum);
  }
  return out;
}

export function messageCost(msg: TruthMessage): number {
  return num(msg.data.cost);
}

export interface ToolPart {
  partId: string;
  messageId: string;
  sessionId: string;
  tool: string;
  callId: string | undefined;
  status: string;
  childSessionId: string | undefined;
}

export function toolParts(t: Truth): ToolPart[] {
  const out: ToolPart[] = [];
  for (const p of t.parts.values()) {
    if (p.data.type !== 'tool') continue;
    const state = (p.data.state ?? {}) as { status?: unknown; metadata?: { sessionId?: unknown } };
    out.push({
      partId: p.id,
      messageId: p.messageId,
      sessionId: p.sessionId,
      tool: str(p.data.tool) ?? '',
      callId: str(p.data.callID),
      status: str(state.status) ?? 'unknown',
      childSessionId: str(state.metadata?.sessionId),
    });
  }
  return out;
}

export function countBy<T>(items: Iterable<T>, key: (x: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of items) {
    const k = key(x);
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

export function errorNames(t: Truth): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of t.messages.values()) {
    const err = m.data.error as { name?: unknown } | undefined;
    if (err && typeof err.name === 'string') out.set(m.id, err.name);
  }
  return out;
}
