// Plain JavaScript, run by bin/ocbridge.js: start-up without the TypeScript loader.
//
// Loading the CLI through tsx slows every start: Node 20 runs module hooks on a separate thread, and
// each source file makes a resolve and a load round trip to it.
// So the bin runs an esbuild bundle of src/cli/main.ts instead, built on the first start after any
// change under src/ and cached in node_modules/.cache/ocbridge/<key>/ (key: every source file's path,
// size and mtime). Nothing to remember: a stale bundle is never used (the key changes), a bundle that
// cannot be built (esbuild missing, read-only install) means tsx as before, and so does
// OCBRIDGE_NO_BUNDLE=1.
//
// The bundle keeps the sources' meaning: `import.meta.url` in each bundled file is replaced by that
// file's own URL (version.ts reads ../package.json), and the plain-JS .mjs modules stay external,
// imported from src/ itself: the listing prefetched by prefetch.mjs lives in list-dirs.mjs's module
// state, which the bundle must share, not copy. The JSON parser thread's script is bundled too
// (json-worker.js); the bin tells worker-entry.mjs where it is.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Bump when the build options change, so that older bundles are not used. */
const FORMAT = 'bundle/v2';
const ENTRY = 'src/cli/main.ts';
/** The JSON parser thread's script, a second entry: `json-worker.js` beside `main.js` (worker-entry.mjs). */
const WORKER_ENTRY = 'src/ingest/json-worker.ts';

/**
 * A key over every file under `srcDir` (relative path, size, mtime), the project root and the format.
 * @param {string} [srcDir]
 */
export function sourceKey(srcDir = join(ROOT, 'src')) {
  const h = createHash('sha1').update(`${FORMAT}\0${resolve(srcDir)}\0`);
  /** @param {string} dir */
  const walk = (dir) => {
    const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else {
        const st = statSync(p);
        h.update(`${relative(srcDir, p)}\0${st.size}\0${st.mtimeMs}\n`);
      }
    }
  };
  walk(srcDir);
  return h.digest('hex').slice(0, 16);
}

/**
 * @param {string} dir
 * @param {string} keep
 */
function removeOtherBundles(dir, keep) {
  const hourAgo = Date.now() - 3600_000;
  for (const name of readdirSync(dir)) {
    if (name === keep) continue;
    const p = join(dir, name);
    try {
      // not at once: a process started before the change may still load its bundle's lazy chunks,
      // and another one may be building into its .tmp- folder
      if (statSync(p).mtimeMs < hourAgo) rmSync(p, { recursive: true, force: true });
    } catch {
      // another process removed it first
    }
  }
}

/**
 * Builds the bundle of src/cli/main.ts into `outDir` with esbuild. `portable` (the published
 * package's dist/, built at pack time): the external .mjs modules and each file's `import.meta.url`
 * are expressed relative to the bundle (dist/ sits beside src/ in the package), not as this
 * machine's absolute paths.
 * @param {string} outDir
 * @param {string} root
 * @param {boolean} [portable]
 */
async function build(outDir, root, portable = false) {
  const { build: esbuild } = await import('esbuild');
  const toDist = (/** @type {string} */ file) => relative(outDir, file).split(/[\\/]/).join('/');
  /** @type {import('esbuild').Plugin} */
  const sourcePaths = {
    name: 'ocbridge-source-paths',
    setup(b) {
      b.onResolve({ filter: /^\.{1,2}\/.*\.mjs$/ }, (a) => {
        const file = resolve(a.resolveDir, a.path);
        return { path: portable ? `./${toDist(file)}` : pathToFileURL(file).href, external: true };
      });
      b.onLoad({ filter: /\.ts$/ }, (a) => ({
        contents: readFileSync(a.path, 'utf8').replaceAll(
          'import.meta.url',
          portable
            ? `new URL(${JSON.stringify(toDist(a.path))}, import.meta.url).href`
            : JSON.stringify(pathToFileURL(a.path).href),
        ),
        loader: 'ts',
      }));
    },
  };
  await esbuild({
    absWorkingDir: root,
    entryPoints: { main: ENTRY, 'json-worker': WORKER_ENTRY },
    bundle: true,
    splitting: true, // the commands main.ts imports lazily stay separate chunks
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    // stack traces map back to src/ with NODE_OPTIONS=--enable-source-maps (not in the package: no src/*.ts there)
    sourcemap: portable ? false : 'linked',
    outdir: outDir,
    logLevel: 'silent',
    plugins: [sourcePaths],
  });
}

/**
 * The published package's bundle (`npm pack` runs it as `prepack`; `postpack` removes it): the
 * installed bin runs dist/main.js and needs neither esbuild nor tsx.
 * @param {string} [root]
 */
export async function buildDist(root = ROOT) {
  const out = join(root, 'dist');
  rmSync(out, { recursive: true, force: true });
  await build(out, root, true);
  return out;
}

/**
 * The URL of the bundled CLI entry (`main.js`, exporting `main(argv)`), built first if the sources
 * changed since the last build; undefined when it cannot be built here (then run the sources with tsx).
 * @param {{ root?: string, cacheDir?: string, env?: NodeJS.ProcessEnv }} [o]
 * @returns {Promise<{ url: string, built: boolean } | undefined>}
 */
export async function bundledMain(o = {}) {
  const env = o.env ?? process.env;
  if (env.OCBRIDGE_NO_BUNDLE && env.OCBRIDGE_NO_BUNDLE !== '0') return undefined;
  const root = o.root ?? ROOT;
  const cacheDir = o.cacheDir ?? join(root, 'node_modules', '.cache', 'ocbridge');
  try {
    const key = sourceKey(join(root, 'src'));
    const dir = join(cacheDir, key);
    const main = join(dir, 'main.js');
    if (existsSync(main)) return { url: pathToFileURL(main).href, built: false };
    mkdirSync(cacheDir, { recursive: true });
    // built beside, then renamed into place: concurrent first starts never see a half-written bundle
    const tmp = join(cacheDir, `${key}.tmp-${process.pid}-${Date.now()}`);
    try {
      await build(tmp, root);
      try {
        renameSync(tmp, dir);
      } catch (e) {
        if (!existsSync(main)) throw e; // else another process built the same key first
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
    removeOtherBundles(cacheDir, key);
    return { url: pathToFileURL(main).href, built: true };
  } catch {
    return undefined;
  }
}
