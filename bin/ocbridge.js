#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --max-semi-space-size=64 --expose-gc
// Installed from the package: runs dist/, the bundle built when the package was packed. In a clone it
// works straight after `npm ci`, with no build step to remember: runs a bundle of the TypeScript
// sources that it builds and caches itself, else the sources directly (tsx).
// --max-semi-space-size=64 (MB; Node 20's default is 16): an ingest hands ~1.4 GB of parsed records
// through the main thread, and with small semi-spaces most of them outlive two scavenges, get
// promoted, and wait for a full GC; a full-scale ingest took 86-90 s with the default and 71-73 s
// with 64 MB (docs/architecture.md). --expose-gc: the bulk load collects its garbage on a budget
// (src/ingest/heap-budget.ts), and MALLOC_ARENA_MAX=2 keeps glibc from holding one malloc arena per
// DuckDB thread: peak RSS of a full-scale ingest 1.42-1.53 GB without both, 1.11 GB with both.
// `npm start`, `npm run demo` and the Dockerfile pass the same.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bundledMain } from '../src/cli/bundle.mjs';
import { prefetchForArgv } from '../src/cli/prefetch.mjs';
import { useBundledWorker } from '../src/ingest/worker-entry.mjs';

// `ocbridge ingest`: the JSON tree's listing starts on a worker thread now, while this thread loads.
prefetchForArgv(process.argv);

// The CLI as one esbuild bundle, rebuilt on the first start after a source change (~0.5 s faster
// per start than tsx, src/cli/bundle.mjs); the sources through tsx when it cannot be built.
const dist = new URL('../dist/main.js', import.meta.url);
const bundle = existsSync(fileURLToPath(dist)) ? { url: dist.href } : await bundledMain();
if (bundle) {
  useBundledWorker(new URL('json-worker.js', bundle.url).href); // parser threads run the bundle too
  const { main } = await import(bundle.url);
  await main(process.argv);
} else {
  // The two largest dependencies every command uses load faster before the TypeScript loader is
  // registered (its hooks see each of their many files): ~0.2 s of every start on 2 cores.
  const [{ register }] = await Promise.all([
    import('tsx/esm/api'),
    import('@duckdb/node-api'),
    import('zod'),
  ]);
  register();
  const { main } = await import('../src/cli/main.ts');
  await main(process.argv);
}
