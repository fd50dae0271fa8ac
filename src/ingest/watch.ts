/**
 * Watches OpenCode's data dir for changes, one inotify watch per DIRECTORY (never per file: a
 * full-scale tree has ~230K files, over the default limit of ~190K watches, which is how a per-file
 * watcher such as chokidar 5 fails on it). `fs.watch` on a directory reports every file written in it.
 * Events only name what may have changed; the ingest decides by fingerprint and high-water mark.
 */
import { existsSync, type FSWatcher, readdirSync, statSync, watch } from 'node:fs';
import { basename, join } from 'node:path';
import { JSON_KINDS } from './json-tree.ts';

export interface WatchHandlers {
  /** A JSON file under storage/ was created, written or removed. */
  json(path: string): void;
  /** `opencode*.db` or its `-wal` changed (or a new database appeared). */
  db(dbFile: string): void;
  /** A storage/ tree appeared where there was none. */
  storageAppeared(storageDir: string): void;
  /** A watch failed (the dir vanished, or the inotify limit was reached). */
  error(message: string, cause?: Error): void;
}

const DB_FILE = /^(opencode(?:-[A-Za-z0-9._-]+)?\.db)(?:-wal)?$/;
const NESTED = new Set(['session', 'message', 'part']);

export class WatchLimitError extends Error {}

export class SourceWatcher {
  private readonly watchers = new Map<string, FSWatcher>();
  private closed = false;

  constructor(
    /** The OpenCode data dir (or a storage/ folder). */
    private readonly root: string,
    private readonly on: WatchHandlers,
  ) {}

  get watchCount(): number {
    return this.watchers.size;
  }

  /** Sets up every watch synchronously, so nothing written after start() returns is missed. */
  start(): void {
    if (basename(this.root) === 'storage') {
      this.watchStorage(this.root);
      return;
    }
    this.add(this.root, (_event, name) => {
      if (!name) return;
      const m = DB_FILE.exec(name);
      if (m) this.on.db(join(this.root, m[1] as string));
      else if (name === 'storage') {
        const dir = join(this.root, 'storage');
        if (existsSync(dir) && !this.watchers.has(join(dir, 'part'))) {
          this.watchStorage(dir);
          this.on.storageAppeared(dir);
        }
      }
    });
    const storage = join(this.root, 'storage');
    if (existsSync(storage)) this.watchStorage(storage);
  }

  private watchStorage(storage: string): void {
    for (const kind of JSON_KINDS) {
      const dir = join(storage, kind);
      if (!existsSync(dir)) continue;
      this.watchKind(dir, NESTED.has(kind));
    }
    // kinds whose folder is created later
    this.add(storage, (_e, name) => {
      if (!name || !(JSON_KINDS as readonly string[]).includes(name)) return;
      const dir = join(storage, name);
      if (!this.watchers.has(dir) && existsSync(dir)) {
        this.watchKind(dir, NESTED.has(name));
        this.announce(dir, NESTED.has(name));
      }
    });
  }

  private watchKind(dir: string, nested: boolean): void {
    if (!nested) {
      this.add(dir, (_e, name) => {
        if (name?.endsWith('.json')) this.on.json(join(dir, name));
      });
      return;
    }
    this.add(dir, (_e, name) => {
      if (!name) return;
      const sub = join(dir, name);
      if (this.watchers.has(sub)) return;
      try {
        if (!statSync(sub).isDirectory()) return;
      } catch {
        return;
      }
      this.watchFiles(sub);
      // files written before the watch existed
      this.announce(sub, false);
    });
    for (const sub of safeReaddir(dir)) {
      const p = join(dir, sub);
      if (!sub.endsWith('.json')) this.watchFiles(p);
    }
  }

  private watchFiles(dir: string): void {
    this.add(dir, (_e, name) => {
      if (name?.endsWith('.json')) this.on.json(join(dir, name));
    });
  }

  private announce(dir: string, nested: boolean): void {
    for (const name of safeReaddir(dir)) {
      const p = join(dir, name);
      if (name.endsWith('.json')) this.on.json(p);
      else if (nested) this.announce(p, false);
    }
  }

  private add(dir: string, listener: (event: string, name: string | null) => void): void {
    if (this.closed || this.watchers.has(dir)) return;
    let w: FSWatcher;
    try {
      w = watch(dir, { persistent: true }, (event, name) => listener(event, name ? String(name) : null));
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'ENOSPC') {
        throw new WatchLimitError(
          `the inotify watch limit was reached after ${this.watchers.size} directories. Raise it, e.g. ` +
            '`sudo sysctl fs.inotify.max_user_watches=524288` (and add it to /etc/sysctl.conf), then restart ocbridge.',
        );
      }
      if (err.code === 'ENOENT') return; // vanished between listing and watching
      this.on.error(`cannot watch ${dir}: ${err.message}`, err);
      return;
    }
    w.on('error', (e) => {
      this.watchers.get(dir)?.close();
      this.watchers.delete(dir);
      this.on.error(`watch on ${dir} stopped: ${(e as Error).message}`, e as Error);
    });
    this.watchers.set(dir, w);
  }

  close(): void {
    this.closed = true;
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
