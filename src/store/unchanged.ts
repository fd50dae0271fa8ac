/**
 * Exact change detection for records a source reads again although it may have stored them already
 * (rows at a table's high-water mark, todo lists: `DbBatch.revisit`). A record whose stored copy came
 * from the same source and file with the same raw JSON is left out, so re-reading an unchanged
 * database writes nothing (no delete + append, no derivation, no store growth). Todos are compared
 * per session as whole lists, in position order, since the writer replaces a session's list whole.
 */
import { type DuckDBConnection, DuckDBListValue, listValue } from '@duckdb/node-api';
import type { IngestRecord, TodoRecord } from '../ingest/records.ts';
import { type Entity, SPECS } from './entities.ts';

const keyOf = (r: IngestRecord): string => SPECS[r.kind as Entity].idOf(r);
const originKey = (source: string, path: string, id: string) => `${source}\u0000${path}\u0000${id}`;

/** Stored raw JSON of these IDs, keyed by origin and ID (todos: the session's list, as a JSON array of raws). */
async function storedRaw(
  conn: DuckDBConnection,
  entity: Entity,
  ids: string[],
): Promise<Map<string, string>> {
  const spec = SPECS[entity];
  const raw = entity === 'todo' ? 'list(raw::VARCHAR ORDER BY position)' : 'raw::VARCHAR';
  const group = entity === 'todo' ? `GROUP BY ${spec.key}, source, source_path` : '';
  const reader = await conn.runAndReadAll(
    `SELECT ${spec.key}, source, source_path, ${raw} FROM ${spec.table}
      WHERE ${spec.key} IN (SELECT unnest($1::VARCHAR[])) ${group}`,
    [listValue(ids)],
  );
  const out = new Map<string, string>();
  for (const r of reader.getRows()) {
    const v = r[3];
    const raw = v instanceof DuckDBListValue ? JSON.stringify(v.items.map(String)) : String(v);
    out.set(originKey(String(r[1]), String(r[2]), String(r[0])), raw);
  }
  return out;
}

/** `records` without the revisited ones whose stored copy is identical. */
export async function withoutStoredCopies(
  conn: DuckDBConnection,
  records: IngestRecord[],
  revisit: ReadonlySet<IngestRecord>,
): Promise<IngestRecord[]> {
  if (revisit.size === 0) return records;
  const byEntity = new Map<Entity, IngestRecord[]>();
  for (const r of revisit) {
    const list = byEntity.get(r.kind as Entity) ?? [];
    byEntity.set(r.kind as Entity, list);
    list.push(r);
  }
  const same = new Set<IngestRecord>();
  for (const [entity, list] of byEntity) {
    const stored = await storedRaw(conn, entity, [...new Set(list.map(keyOf))]);
    if (entity === 'todo') {
      const lists = new Map<string, TodoRecord[]>();
      for (const r of list as TodoRecord[]) {
        const k = originKey(r.source, r.sourcePath, r.sessionId);
        lists.set(k, [...(lists.get(k) ?? []), r]);
      }
      for (const [k, todos] of lists) {
        todos.sort((a, b) => a.position - b.position);
        if (stored.get(k) === JSON.stringify(todos.map((t) => t.raw))) for (const t of todos) same.add(t);
      }
    } else {
      for (const r of list)
        if (stored.get(originKey(r.source, r.sourcePath, keyOf(r))) === r.raw) same.add(r);
    }
  }
  return same.size === 0 ? records : records.filter((r) => !same.has(r));
}
