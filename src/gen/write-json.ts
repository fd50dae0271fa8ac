/**
 * G1 JSON tree writer: <out>/storage/{project,session,message,part,todo,session_diff}/..., exactly the
 * paths the 1.2 importer scans. Files are JSON.stringify(x, null, 2) like Storage.write, written synchronously.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileWriter } from './file-writer.ts';
import type { FileDiff, ProjectRec, SessionRec, TodoRec } from './types.ts';

export interface JsonStats {
  files: number;
  bytes: number;
  byDir: Record<string, { files: number; bytes: number }>;
}

export class JsonSink {
  readonly storage: string;
  private readonly writer = new FileWriter();
  readonly stats: JsonStats = { files: 0, bytes: 0, byDir: {} };

  constructor(out: string) {
    this.storage = join(out, 'storage');
  }

  private write(kind: string, rel: string[], value: unknown): void {
    const dir = join(this.storage, kind, ...rel.slice(0, -1));
    const text = JSON.stringify(value, null, 2);
    const bytes = this.writer.write(dir, join(dir, `${rel[rel.length - 1]}.json`), text);
    this.stats.files++;
    this.stats.bytes += bytes;
    this.stats.byDir[kind] ??= { files: 0, bytes: 0 };
    const d = this.stats.byDir[kind];
    d.files++;
    d.bytes += bytes;
  }

  /** Waits until every queued file is written. */
  close(): Promise<void> {
    return this.writer.close();
  }

  writeMigrationMarker(): void {
    mkdirSync(this.storage, { recursive: true });
    writeFileSync(join(this.storage, 'migration'), '2');
  }

  writeProject(p: ProjectRec): void {
    this.write('project', [p.id], p);
  }

  /** Writes the session, its messages and parts (rows that exist only in 2.x are skipped). Returns counts. */
  writeSession(s: SessionRec): { messages: number; parts: number; todos: number } {
    const sid = s.info.id;
    this.write('session', [s.info.projectID, sid], s.info);
    let messages = 0;
    let parts = 0;
    for (const r of s.rows) {
      if (r.kind !== 'message' || r.v2Only) continue;
      this.write('message', [sid, r.info.id], r.info);
      messages++;
      for (const p of r.parts) {
        this.write('part', [r.info.id, p.id], p);
        parts++;
      }
    }
    let todos = 0;
    if (s.todos) {
      this.writeTodos(sid, s.todos);
      todos = s.todos.length;
    }
    return { messages, parts, todos };
  }

  writeTodos(sessionID: string, todos: TodoRec[]): void {
    this.write('todo', [sessionID], todos);
  }

  writeSessionDiff(sessionID: string, diffs: FileDiff[]): void {
    this.write('session_diff', [sessionID], diffs);
  }
}
