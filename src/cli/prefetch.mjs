// Plain JavaScript, run by bin/ocbridge.js before it loads DuckDB and the TypeScript sources: for `ocbridge ingest`, the JSON tree's listing starts at once on a worker thread
// (src/ingest/list-dirs.mjs), so the second core lists while the first one loads. The listing joins
// it later only if it is for the storage/ folder the ingest actually reads (`takeListing`); a wrong
// guess costs some idle-core time and nothing else. Sources named by configuration (environment or
// config file) are not guessed here.
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { defaultOpenCodeDataDir } from '../ingest/data-dir.mjs';
import { prefetchListing } from '../ingest/list-dirs.mjs';
import { configFileCandidates } from './config-files.mjs';

/**
 * The storage/ folder `ocbridge ingest` will list, when the command line alone says which (else null).
 * @param {readonly string[]} argv
 * @param {NodeJS.ProcessEnv} [env]
 * @param {string} [cwd]
 */
export function ingestStorageDir(argv, env = process.env, cwd = process.cwd()) {
  const args = argv.slice(2);
  if (args.find((a) => !a.startsWith('-')) !== 'ingest') return null;
  if (args.includes('--help') || args.includes('-h')) return null;
  /** @type {string | undefined} */ let source;
  for (let i = 0; i < args.length; i++) {
    const a = /** @type {string} */ (args[i]);
    if (a === '--source' || a === '-s') source = args[i + 1];
    else if (a.startsWith('--source=')) source = a.slice('--source='.length);
  }
  if (source === undefined) {
    if (env.OCBRIDGE_SOURCE || env.OCBRIDGE_CONFIG) return null;
    if (configFileCandidates(env, cwd).some((f) => existsSync(f))) return null;
    source = defaultOpenCodeDataDir(env);
  }
  const root = resolve(cwd, source);
  if (basename(root) === 'storage') return root;
  const storage = join(root, 'storage');
  return existsSync(storage) ? storage : null;
}

/** @param {readonly string[]} argv */
export function prefetchForArgv(argv) {
  const dir = ingestStorageDir(argv);
  if (dir) prefetchListing(dir);
}
