/**
 * The legacy JSON tree (`storage/`, OpenCode ≤ 1.1.65): listing with fingerprints, and parsing one file.
 * IDs come from file and folder names, as OpenCode's own JSON→SQLite importer takes them.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { basename, relative, sep } from 'node:path';
import {
  boundJson,
  boundReason,
  isStackOverflow,
  MAX_INPUT_BYTES,
  MAX_STRING_CHARS,
} from './bounded-json.ts';
import {
  type DirListing,
  KINDS,
  kindOf,
  listDirs,
  NESTED_KINDS,
  startListing,
  subdirs,
  takeListing,
} from './list-dirs.mjs';
import { mapMessage, mapPart, mapProject, mapSession, mapSessionDiff, mapTodos } from './map.ts';
import type { IngestProblem, IngestProblemCode, IngestRecord, Origin } from './records.ts';

export type JsonFileKind = 'project' | 'session' | 'message' | 'part' | 'todo' | 'session_diff';

/** Parse order: parents before children, so a partial load is still consistent. */
export const JSON_KINDS = KINDS as readonly JsonFileKind[];

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

/** One listing of a JSON tree: per kind, its file count, its digest, and (on demand) its files. */
export interface JsonTreeListing {
  files(kind: JsonFileKind): number;
  /** A digest of the kind's listing (paths, sizes, mtimes), without building the refs. */
  digest(kind: JsonFileKind): string;
  refs(kind: JsonFileKind): JsonFileRef[];
  /** The kind's folders that exist but could not be listed (their files are not in `refs`). */
  unreadable(kind: JsonFileKind): { path: string; code: string }[];
}

/**
 * Lists every kind of the tree with fingerprints, in folder order. On a large tree (~44K folders,
 * ~230K files) this thread and a worker thread share the folders (list-dirs.mjs): each claims blocks
 * of folders from one shared cursor until none are left. A listing that `bin/ocbridge.js` prefetched
 * for this folder (`ocbridge ingest`) is joined where it is, so the worker's head start counts.
 * File refs are built per kind when asked for: a re-ingest that finds every kind's digest unchanged
 * builds none of them.
 */
export async function listJsonTreeLazy(
  storageDir: string,
  o: { minDirsForWorker?: number } = {},
): Promise<JsonTreeListing> {
  const l = takeListing(storageDir) ?? startListing(storageDir, o.minDirsForWorker);
  const { root } = l;
  const dirs = await l.dirs;
  const mine = listDirs(root, dirs, l.cursor);
  const theirs: DirListing = l.worker
    ? await l.worker
    : { names: [], dirIndex: [], sizes: [], mtimesUs: [], segments: [], unreadable: [] };
  // where each folder's files are: which listing, first index, count (each listing is ascending by
  // folder, and a folder's files are in one listing, together)
  const from: DirListing[] = new Array(dirs.length);
  const first = new Int32Array(dirs.length);
  const count = new Int32Array(dirs.length);
  for (const listing of [mine, theirs]) {
    const idx = listing.dirIndex;
    for (let i = 0; i < idx.length; i++) {
      const d = idx[i] as number;
      if (count[d] === 0) {
        from[d] = listing;
        first[d] = i;
      }
      count[d] = (count[d] as number) + 1;
    }
  }
  // the folders of each kind are one range of `dirs` (listed kind by kind)
  const range = new Map<JsonFileKind, [number, number]>();
  for (let d = 0; d < dirs.length; d++) {
    const kind = kindOf(dirs[d] as string) as JsonFileKind;
    const r = range.get(kind);
    if (r) r[1] = d + 1;
    else range.set(kind, [d, d + 1]);
  }
  const kindRange = (kind: JsonFileKind) => range.get(kind) ?? [0, 0];
  const files = (kind: JsonFileKind) => {
    const [lo, hi] = kindRange(kind);
    let n = 0;
    for (let d = lo; d < hi; d++) n += count[d] as number;
    return n;
  };
  return {
    files,
    unreadable(kind) {
      const [lo, hi] = kindRange(kind);
      return [...mine.unreadable, ...theirs.unreadable]
        .filter((u) => u.dir >= lo && u.dir < hi)
        .sort((x, y) => x.dir - y.dir)
        .map((u) => ({ path: `${root}${sep}${dirs[u.dir]}`, code: u.code }));
    },
    digest(kind) {
      // the digests of the kind's blocks (hashed by the threads that listed them), in folder order
      const segments = [...mine.segments, ...theirs.segments]
        .filter((g) => g.kind === kind)
        .sort((x, y) => x.start - y.start);
      const h = createHash('sha1').update(`listing/v2\0${root}\0${kind}\0${files(kind)}\0`);
      for (const g of segments) h.update(`${g.start}\0${g.digest}\0`);
      return h.digest('hex');
    },
    refs(kind) {
      const out: JsonFileRef[] = [];
      const [lo, hi] = kindRange(kind);
      for (let d = lo; d < hi; d++) {
        const c = count[d] as number;
        if (c === 0) continue;
        const rel = dirs[d] as string;
        const prefix = `${root}${sep}${rel}${sep}`;
        const cut = rel.indexOf(sep);
        const parentId = cut < 0 ? null : rel.slice(cut + 1);
        const listing = from[d] as DirListing;
        for (let i = first[d] as number, end = i + c; i < end; i++) {
          const name = listing.names[i] as string;
          out.push({
            kind,
            path: prefix + name,
            id: name.slice(0, -5),
            parentId,
            size: listing.sizes[i] as number,
            mtimeUs: listing.mtimesUs[i] as number,
          });
        }
      }
      return out;
    },
  };
}

/** Every kind's files (see `listJsonTreeLazy`). */
export async function listJsonTree(
  storageDir: string,
  o: { minDirsForWorker?: number } = {},
): Promise<Map<JsonFileKind, JsonFileRef[]>> {
  const listing = await listJsonTreeLazy(storageDir, o);
  return new Map(JSON_KINDS.map((k) => [k, listing.refs(k)]));
}

export interface ParsedFile {
  records: IngestRecord[];
  problems: IngestProblem[];
}

/**
 * Reads and maps one file. Never throws: a bad file yields one problem with a clear reason. A file over
 * the size limit, or too deep to map, is stored bounded (bounded-json.ts) with a warning saying so.
 */
export function parseJsonFile(ref: JsonFileRef): ParsedFile {
  let bytes: Buffer;
  try {
    bytes = readFileSync(ref.path);
  } catch (e) {
    return fail(
      ref,
      'unreadable_file',
      `unreadable: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  if (bytes.length > MAX_INPUT_BYTES) return parseBounded(ref, bytes, MAX_STRING_CHARS);
  const text = bytes.toString('utf8');
  if (text.trim() === '')
    return fail(ref, 'invalid_json', 'empty file (OpenCode may be writing it; retried on the next change)');
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (e) {
    if (isStackOverflow(e)) return parseBounded(ref, bytes, Number.POSITIVE_INFINITY);
    return fail(ref, 'invalid_json', `invalid JSON (truncated or half-written?): ${(e as Error).message}`);
  }
  try {
    return mapJsonObject(ref, obj);
  } catch (e) {
    if (isStackOverflow(e)) return parseBounded(ref, bytes, Number.POSITIVE_INFINITY);
    return fail(ref, 'invalid_record', `unmappable: ${(e as Error).message}`);
  }
}

/** Maps a file with the bounds applied (long strings cut to `maxChars`, deep subtrees cut). */
function parseBounded(ref: JsonFileRef, bytes: Uint8Array, maxChars: number): ParsedFile {
  const b = boundJson(bytes, maxChars);
  let parsed: ParsedFile;
  try {
    parsed = mapJsonObject(ref, JSON.parse(new TextDecoder().decode(b.bytes)));
  } catch (e) {
    return fail(ref, 'invalid_json', `invalid JSON (truncated or half-written?): ${(e as Error).message}`);
  }
  if (parsed.records.length > 0)
    parsed.problems.push({
      sourcePath: ref.path,
      code: 'bounded_input',
      severity: 'warning',
      reason: boundReason(bytes.length, b),
    });
  return parsed;
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
    return fail(ref, 'invalid_record', `not a valid ${ref.kind}: ${mapped.issues.join('; ')}`);
  }
  if (mapped.issues.length > 0) {
    problems.push({
      sourcePath: ref.path,
      code: 'schema_warning',
      severity: 'warning',
      reason: `schema: ${mapped.issues.slice(0, 5).join('; ')}`,
    });
  }
  return { records: Array.isArray(mapped.record) ? mapped.record : [mapped.record], problems };
}

function fail(ref: JsonFileRef, code: IngestProblemCode, reason: string): ParsedFile {
  return { records: [], problems: [{ sourcePath: ref.path, code, severity: 'error', reason }] };
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
  const nested = NESTED_KINDS.has(kind);
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
