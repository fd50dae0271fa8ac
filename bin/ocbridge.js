#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --max-semi-space-size=64 --expose-gc
// Installed from the package: runs dist/, the bundle built when the package was packed. In a clone it
// works straight after `npm ci`, with no build step to remember: runs a bundle of the TypeScript
// sources that it builds and caches itself, else the sources directly (tsx).
// The shebang line is the one place the Node options are written (`npm start`, `npm run demo`, the
// Dockerfile and the benchmarks run this file or read this line): a larger young generation, since an
// ingest hands all parsed records through the main thread and with small semi-spaces most of them
// would be promoted and wait for a full GC; --expose-gc, since the bulk load collects its garbage on
// a budget (src/ingest/heap-budget.ts); MALLOC_ARENA_MAX=2, so glibc keeps no malloc arena per DuckDB
// thread. Measurements: docs/perf-log.md; the other budgets: src/resources.ts.
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
