// Lists the `.json` files of the JSON tree's folders with their size and mtime: the tree's fingerprint
// listing. Plain JavaScript so it also runs as a worker thread without loading the TypeScript loader
// (it starts much sooner), and so that `bin/ocbridge.js` can start it before it loads anything else
// (`prefetchListing`): on a large tree the readdir/stat calls are most of a re-ingest that changes nothing, and the second core can make them
// while the first one loads DuckDB and the TypeScript sources.
import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

/** The storage/ kinds, in parse order (parents before children). */
export const KINDS = ['project', 'session', 'message', 'part', 'todo', 'session_diff'];
/** Kinds stored one folder per parent (session → project, message → session, part → message). */
export const NESTED_KINDS = new Set(['session', 'message', 'part']);
/** Folders per block: threads sharing a listing claim blocks; each block's files get one digest per kind. */
export const CLAIM_BLOCK = 64;
/** Below this many folders the tree is listed on one thread (a worker costs ~0.1 s to start). */
const PARALLEL_MIN_DIRS = 4000;
/** A prefetched listing older than this is not used (listed again instead). */
const PREFETCH_MAX_AGE_MS = 10_000;

/** A folder that exists but cannot be listed (EACCES, EIO…); one that vanished (ENOENT) is not one. */
const unreadable = (/** @type {unknown} */ e) => {
  const code = /** @type {NodeJS.ErrnoException} */ (e).code;
  return code !== 'ENOENT' && code !== 'ENOTDIR';
};

/**
 * The sub-folders of `dir`: none if it is missing, null if it exists but cannot be listed.
 * @param {string} dir
 */
export function subdirsOrNull(dir) {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
  } catch (e) {
    if (unreadable(e)) return null;
    return [];
  }
}

/** The sub-folders of `dir` (none if it is missing or unreadable). @param {string} dir */
export const subdirs = (dir) => subdirsOrNull(dir) ?? [];

/**
 * The folders of a storage/ folder that hold JSON files, relative to it, kind by kind.
 * @param {string} root
 */
export function listFolders(root) {
  /** @type {string[]} */ const dirs = [];
  for (const kind of KINDS) {
    const sub = NESTED_KINDS.has(kind) ? subdirsOrNull(join(root, kind)) : null;
    // a kind's folder that cannot be listed is listed as a folder itself, so the listing reports it
    if (sub) for (const d of sub) dirs.push(`${kind}${sep}${d}`);
    else dirs.push(kind);
  }
  return dirs;
}

/** The kind of a folder of `listFolders` (its first path segment). @param {string} rel */
export const kindOf = (rel) => {
  const cut = rel.indexOf(sep);
  return cut < 0 ? rel : rel.slice(0, cut);
};

/**
 * Lists the files of `dirs` (relative to `root`), block by block (`CLAIM_BLOCK` folders). With `next`,
 * a cursor shared with another thread listing the same `dirs`, blocks are claimed until none are
 * left, so both threads finish together whatever the folder sizes. Each block's files of one kind get
 * a digest (`segments`), hashed here, on the thread that listed them: the same blocks and digests
 * whichever thread lists them.
 * @param {string} root
 * @param {readonly string[]} dirs
 * @param {Int32Array} [next]
 */
export function listDirs(root, dirs, next) {
  /** @type {string[]} */ const names = [];
  /** @type {number[]} */ const dirIndex = [];
  /** @type {number[]} */ const sizes = [];
  /** @type {number[]} */ const mtimesUs = [];
  /** @type {{ start: number, kind: string, digest: string }[]} */ const segments = [];
  /** @type {{ dir: number, code: string }[]} */ const failed = [];
  for (let pass = 0; ; pass++) {
    // with a cursor: the next unclaimed block; without: everything, in one pass
    const lo = next ? Atomics.add(next, 0, CLAIM_BLOCK) : pass === 0 ? 0 : dirs.length;
    if (lo >= dirs.length) break;
    const hi = next ? Math.min(lo + CLAIM_BLOCK, dirs.length) : dirs.length;
    let segStart = lo;
    let segFirstFile = names.length;
    let segKind = kindOf(/** @type {string} */ (dirs[lo]));
    /** @type {string[]} */ let folders = [];
    const closeSegment = () => {
      const n = names.length - segFirstFile;
      const h = createHash('sha1').update(`${segStart}\0${segKind}\0${folders.join('\0')}\0\0`);
      h.update(names.slice(segFirstFile).join('\0'));
      h.update(new Uint8Array(new Float64Array(sizes.slice(segFirstFile)).buffer));
      h.update(new Uint8Array(new Float64Array(mtimesUs.slice(segFirstFile)).buffer));
      if (n > 0) segments.push({ start: segStart, kind: segKind, digest: h.digest('hex') });
    };
    for (let i = lo; i < hi; i++) {
      const rel = /** @type {string} */ (dirs[i]);
      const kind = kindOf(rel);
      // a segment is one kind within one block (blocks start at multiples of CLAIM_BLOCK)
      if (kind !== segKind || (i % CLAIM_BLOCK === 0 && i !== segStart)) {
        closeSegment();
        segStart = i;
        segFirstFile = names.length;
        segKind = kind;
        folders = [];
      }
      // plain concatenation: path.join normalises every string, measurable over ~230K files
      const dir = `${root}${sep}${rel}`;
      let files = [];
      try {
        files = readdirSync(dir);
      } catch (e) {
        // vanished since the parent was listed: nothing to list; unreadable: reported
        if (unreadable(e))
          failed.push({ dir: i, code: /** @type {NodeJS.ErrnoException} */ (e).code ?? String(e) });
      }
      const before = names.length;
      for (const f of files) {
        if (!f.endsWith('.json')) continue;
        let st;
        try {
          st = statSync(`${dir}${sep}${f}`, { throwIfNoEntry: false });
        } catch {
          continue; // unreadable: the next listing tries again
        }
        if (!st?.isFile()) continue;
        names.push(f);
        dirIndex.push(i);
        sizes.push(st.size);
        mtimesUs.push(Math.trunc(st.mtimeMs * 1000));
      }
      if (names.length > before) folders.push(`${rel}\0${names.length - before}`);
    }
    closeSegment();
  }
  return { names, dirIndex, sizes, mtimesUs, segments, unreadable: failed };
}

/**
 * Starts listing a storage/ folder: on a large tree (or `minDirsForWorker` 0) a worker thread that
 * starts claiming folders at once. The caller lists the rest with `listDirs(root, await dirs, cursor)`
 * and merges what the worker returns. With `foldersInWorker` the worker also finds the folders, so
 * this thread does not wait for that either.
 * @param {string} storageDir
 * @param {number} [minDirsForWorker]
 * @param {{ foldersInWorker?: boolean }} [o]
 */
export function startListing(storageDir, minDirsForWorker = PARALLEL_MIN_DIRS, o = {}) {
  const root = resolve(storageDir);
  const startedAt = Date.now();
  const folders = o.foldersInWorker ? undefined : listFolders(root);
  if (folders && folders.length < minDirsForWorker)
    return { root, dirs: Promise.resolve(folders), startedAt };
  const cursor = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(new URL(import.meta.url), {
    workerData: { listDirs: { root, dirs: folders, next: cursor.buffer } },
  });
  /** @type {(dirs: string[]) => void} */ let gotDirs = () => {};
  /** @type {(e: Error) => void} */ let noDirs = () => {};
  const dirs = folders
    ? Promise.resolve(folders)
    : new Promise((resolve, reject) => {
        gotDirs = resolve;
        noDirs = reject;
      });
  const listed = new Promise((resolve, reject) => {
    worker.on('message', (m) => (m.dirs ? gotDirs(m.dirs) : resolve(m.listing)));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`listing worker exited (${code})`)));
  }).finally(() => void worker.terminate());
  listed.catch((e) => noDirs(e)); // awaited by the consumer; harmless if nobody does
  dirs.catch(() => undefined);
  return {
    root,
    dirs,
    startedAt,
    cursor,
    worker: listed,
    stop: () => void worker.terminate(),
    /** @param {boolean} keepAlive whether the worker keeps the process alive */
    keepAlive: (keepAlive) => (keepAlive ? worker.ref() : worker.unref()),
  };
}

/** @type {Map<string, ReturnType<typeof startListing>>} */
const prefetched = new Map();

/**
 * Starts listing `storageDir` ahead of its use (`bin/ocbridge.js`, for `ocbridge ingest`), on a worker
 * thread only: this thread is busy loading modules meanwhile. `takeListing` hands it to the listing.
 * The worker does not keep the process alive.
 * @param {string} storageDir
 */
export function prefetchListing(storageDir) {
  try {
    const l = startListing(storageDir, 0, { foldersInWorker: true });
    l.keepAlive?.(false);
    prefetched.set(l.root, l);
  } catch {
    // nothing prefetched: the listing runs when it is needed
  }
}

/**
 * The listing prefetched for this storage/ folder, once (none, or too old: undefined).
 * @param {string} root
 */
export function takeListing(root) {
  const key = resolve(root);
  const l = prefetched.get(key);
  prefetched.delete(key);
  if (!l) return undefined;
  if (Date.now() - l.startedAt > PREFETCH_MAX_AGE_MS) {
    l.stop?.();
    return undefined;
  }
  l.keepAlive?.(true);
  return l;
}

if (!isMainThread && parentPort && workerData?.listDirs) {
  const { root, next } = workerData.listDirs;
  let { dirs } = workerData.listDirs;
  if (!dirs) {
    dirs = listFolders(root);
    parentPort.postMessage({ dirs });
  }
  parentPort.postMessage({ listing: listDirs(root, dirs, next ? new Int32Array(next) : undefined) });
}
