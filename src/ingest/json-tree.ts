/**
 * The legacy JSON tree (`storage/`, OpenCode ≤ 1.1.65): listing with fingerprints, and parsing one file.
 * IDs come from file and folder names, as OpenCode's own JSON→SQLite importer takes them.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative, resolve, sep } from 'node:path';
import { Worker } from 'node:worker_threads';
import { type DirListing, listDirs } from './list-dirs.mjs';
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

function subdirs(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
  } catch {
    return [];
  }
}

/** Below this many folders the whole tree is listed on this thread (a worker costs ~0.1 s to start). */
const PARALLEL_LISTING_MIN_DIRS = 4000;

/** Kinds stored one folder per parent (session → project, message → session, part → message). */
const NESTED: ReadonlySet<JsonFileKind> = new Set(['session', 'message', 'part']);

/**
 * Lists every kind of the tree with fingerprints (what `listJsonFiles` does per kind). The per-folder
 * kinds are split between this thread and a worker thread: on a full-scale tree (~44K folders, ~230K
 * files) the ~280K readdir/stat calls are most of a re-ingest that changes nothing.
 */
export async function listJsonTree(
  storageDir: string,
  o: { minDirsForWorker?: number } = {},
): Promise<Map<JsonFileKind, JsonFileRef[]>> {
  const out = new Map<JsonFileKind, JsonFileRef[]>(JSON_KINDS.map((k) => [k, []]));
  const root = resolve(storageDir);
  const dirs: string[] = [];
  for (const kind of JSON_KINDS) {
    if (NESTED.has(kind)) for (const d of subdirs(join(storageDir, kind))) dirs.push(`${kind}${sep}${d}`);
    else dirs.push(kind);
  }
  const collect = (part: readonly string[], l: DirListing) => {
    for (let i = 0; i < l.names.length; i++) {
      const rel = part[l.dirIndex[i] as number] as string;
      const cut = rel.indexOf(sep);
      const kind = (cut < 0 ? rel : rel.slice(0, cut)) as JsonFileKind;
      const name = l.names[i] as string;
      (out.get(kind) as JsonFileRef[]).push({
        kind,
        path: `${root}${sep}${rel}${sep}${name}`,
        id: name.slice(0, -5),
        parentId: cut < 0 ? null : rel.slice(cut + 1),
        size: l.sizes[i] as number,
        mtimeUs: l.mtimesUs[i] as number,
      });
    }
  };
  if (dirs.length < (o.minDirsForWorker ?? PARALLEL_LISTING_MIN_DIRS)) {
    collect(dirs, listDirs(root, dirs));
    return out;
  }
  const half = Math.floor(dirs.length / 2);
  const mine = dirs.slice(0, half);
  const theirs = dirs.slice(half);
  const worker = new Worker(new URL('./list-dirs.mjs', import.meta.url), {
    workerData: { listDirs: { root, dirs: theirs } },
  });
  const fromWorker = new Promise<DirListing>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`listing worker exited (${code})`)));
  });
  try {
    collect(mine, listDirs(root, mine));
    collect(theirs, await fromWorker);
  } finally {
    void worker.terminate();
  }
  return out;
}

/**
 * A digest of a listing (every path with its size and mtime, in listing order): equal digests mean
 * the same files with the same fingerprints. A listing in another order only gives another digest
 * (then the files are compared one by one), never a false match.
 */
export function listingDigest(refs: readonly JsonFileRef[]): string {
  const h = createHash('sha1');
  for (const r of refs) h.update(`${r.path}\0${r.size}\0${r.mtimeUs}\n`);
  return h.digest('hex');
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
  const nested = NESTED.has(kind);
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
