/** Finds OpenCode's data: the data dir, its `storage/` tree and its `opencode*.db` files. */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { defaultOpenCodeDataDir } from './data-dir.mjs';
import { isStorageDir } from './json-tree.ts';

export interface Sources {
  /** What the user pointed at (or the default data dir). */
  root: string;
  storageDir: string | null;
  dbFiles: string[];
}

export class SourceNotFoundError extends Error {}

export { defaultOpenCodeDataDir };

const isDbFile = (name: string) => /^opencode(-[A-Za-z0-9._-]+)?\.db$/.test(name);

/** `opencode.db` first, then channel databases by name. */
function dbFilesIn(dir: string): string[] {
  let names: string[] = [];
  try {
    names = readdirSync(dir).filter(isDbFile);
  } catch {
    return [];
  }
  return names
    .sort((a, b) => (a === 'opencode.db' ? -1 : b === 'opencode.db' ? 1 : a.localeCompare(b)))
    .map((n) => join(dir, n));
}

/**
 * `source` may be the OpenCode data dir, a `storage/` folder, or one `.db` file.
 * Throws SourceNotFoundError, with what to do, when there is nothing to read.
 */
export function discoverSources(source?: string, env: NodeJS.ProcessEnv = process.env): Sources {
  const root = resolve(source ?? defaultOpenCodeDataDir(env));
  if (!existsSync(root)) {
    throw new SourceNotFoundError(
      `no OpenCode data at ${root}. ` +
        (source
          ? 'Check the --source path.'
          : 'Run OpenCode once, set XDG_DATA_HOME, or pass --source <OpenCode data dir | storage/ | opencode.db>.'),
    );
  }
  const st = statSync(root);
  if (st.isFile()) {
    if (!root.endsWith('.db'))
      throw new SourceNotFoundError(`${root} is a file but not an OpenCode .db file`);
    return { root, storageDir: null, dbFiles: [root] };
  }
  if (basename(root) === 'storage' || (!existsSync(join(root, 'storage')) && isStorageDir(root))) {
    return { root, storageDir: root, dbFiles: [] };
  }
  const storage = join(root, 'storage');
  const sources: Sources = {
    root,
    storageDir: existsSync(storage) ? storage : null,
    dbFiles: dbFilesIn(root),
  };
  if (!sources.storageDir && sources.dbFiles.length === 0) {
    throw new SourceNotFoundError(
      `${root} holds neither a storage/ folder nor an opencode*.db file; is it the OpenCode data dir (usually ~/.local/share/opencode)?`,
    );
  }
  return sources;
}
