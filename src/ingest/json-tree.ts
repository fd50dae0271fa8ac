/**
 * The legacy JSON tree (`storage/`, OpenCode ≤ 1.1.65): listing with fingerprints, and parsing one file.
 * IDs come from file and folder names, as OpenCode's own JSON→SQLite importer takes them.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative, sep } from 'node:path';
import { mapMessage, mapPart, mapProject, mapSession, mapSessionDiff, mapTodos } from './map.ts';
import type { IngestProblem, IngestRecord, Origin } from './records.ts';

export type JsonFileKind = 'project' | 'session' | 'message' | 'part' | 'todo' | 'session_diff';

/** Parse order: parents before children, so a partial load is still consistent. */
export const JSON_KINDS: readonly JsonFileKind[] = [
  'project',
  'session',
  'message',
  'part',
  'todo',
  'session_diff',
];

export interface JsonFileRef {
  kind: JsonFileKind;
  path: string;
  /** The ID the file is named after (project, session, message, part; the session for todo/session_diff). */
  id: string;
  /** The folder's ID: project for sessions, session for messages, message for parts. */
  parentId: string | null;
  size: number;
  mtimeUs: number;
}

function jsonFiles(dir: string): string[] {
  try {
    return readdirSync(dir).filter((f) => f.endsWith('.json'));
  } catch {
    return [];
  }
}

function subdirs(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
  } catch {
    return [];
  }
}

/** Lists the files of one kind with their size and mtime (the fingerprint used to skip unchanged files). */
export function listJsonFiles(storageDir: string, kind: JsonFileKind): JsonFileRef[] {
  const out: JsonFileRef[] = [];
  const root = join(storageDir, kind);
  const add = (path: string, id: string, parentId: string | null) => {
    try {
      const st = statSync(path);
      if (st.isFile())
        out.push({ kind, path, id, parentId, size: st.size, mtimeUs: Math.trunc(st.mtimeMs * 1000) });
    } catch {
      // vanished between listing and stat: OpenCode deleted it; nothing to ingest
    }
  };
  if (kind === 'project' || kind === 'todo' || kind === 'session_diff') {
    for (const f of jsonFiles(root)) add(join(root, f), f.slice(0, -5), null);
  } else {
    for (const d of subdirs(root)) {
      const dir = join(root, d);
      for (const f of jsonFiles(dir)) add(join(dir, f), f.slice(0, -5), d);
    }
  }
  return out;
}

export interface ParsedFile {
  records: IngestRecord[];
  problems: IngestProblem[];
}

/** Reads and maps one file. Never throws: a bad file yields one problem with a clear reason. */
export function parseJsonFile(ref: JsonFileRef): ParsedFile {
  let text: string;
  try {
    text = readFileSync(ref.path, 'utf8');
  } catch (e) {
    return fail(ref, `unreadable: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (text.trim() === '')
    return fail(ref, 'empty file (OpenCode may be writing it; retried on the next change)');
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (e) {
    return fail(ref, `invalid JSON (truncated or half-written?): ${(e as Error).message}`);
  }
  return mapJsonObject(ref, obj);
}

export function mapJsonObject(ref: JsonFileRef, obj: unknown): ParsedFile {
  const origin: Origin = { source: 'json', sourcePath: ref.path };
  const parent = ref.parentId ?? '';
  let mapped: { record: IngestRecord | IngestRecord[] | null; issues: string[] };
  switch (ref.kind) {
    case 'project':
      mapped = mapProject(obj, ref.id, origin);
      break;
    case 'session': {
      mapped = mapSession(obj, ref.id, origin);
      // the folder names the project, as in OpenCode's importer
      if (mapped.record && !Array.isArray(mapped.record) && mapped.record.kind === 'session' && parent)
        mapped.record.projectId = parent;
      break;
    }
    case 'message':
      mapped = mapMessage(obj, { messageId: ref.id, sessionId: parent }, origin);
      break;
    case 'part':
      mapped = mapPart(obj, { partId: ref.id, messageId: parent, sessionId: null }, origin);
      break;
    case 'todo':
      mapped = mapTodos(obj, ref.id, origin);
      break;
    case 'session_diff':
      mapped = mapSessionDiff(obj, ref.id, origin);
      break;
  }
  const problems: IngestProblem[] = [];
  if (mapped.record === null) {
    return fail(ref, `not a valid ${ref.kind}: ${mapped.issues.join('; ')}`);
  }
  if (mapped.issues.length > 0) {
    problems.push({
      sourcePath: ref.path,
      severity: 'warning',
      reason: `schema: ${mapped.issues.slice(0, 5).join('; ')}`,
    });
  }
  return { records: Array.isArray(mapped.record) ? mapped.record : [mapped.record], problems };
}

function fail(ref: JsonFileRef, reason: string): ParsedFile {
  return { records: [], problems: [{ sourcePath: ref.path, severity: 'error', reason }] };
}

export function isStorageDir(dir: string): boolean {
  return basename(dir) === 'storage' || subdirs(dir).some((d) => d === 'session' || d === 'message');
}

/** The ref for one path under `storage/` (null when it isn't a storage JSON file or is gone). */
export function refFromPath(storageDir: string, path: string): JsonFileRef | null {
  const rel = relative(storageDir, path).split(sep);
  if (rel.length < 2 || rel[0] === '..' || !path.endsWith('.json')) return null;
  const kind = rel[0] as JsonFileKind;
  if (!JSON_KINDS.includes(kind)) return null;
  const nested = kind === 'session' || kind === 'message' || kind === 'part';
  if ((nested && rel.length !== 3) || (!nested && rel.length !== 2)) return null;
  let st: import('node:fs').Stats;
  try {
    st = statSync(path);
  } catch {
    return null;
  }
  if (!st.isFile()) return null;
  const name = rel[rel.length - 1] as string;
  return {
    kind,
    path,
    id: name.slice(0, -5),
    parentId: nested ? (rel[1] as string) : null,
    size: st.size,
    mtimeUs: Math.trunc(st.mtimeMs * 1000),
  };
}
