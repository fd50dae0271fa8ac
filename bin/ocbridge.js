#!/usr/bin/env node
// Runs the TypeScript sources directly (tsx), so `ocbridge` works straight after `npm ci`.
import { prefetchForArgv } from '../src/cli/prefetch.mjs';

// `ocbridge ingest`: the JSON tree's listing starts on a worker thread now, while this thread loads.
prefetchForArgv(process.argv);

// The two largest dependencies every command uses load faster before the TypeScript loader is
// registered (its hooks see each of their many files): ~0.2 s of every start on 2 cores.
const [{ register }] = await Promise.all([import('tsx/esm/api'), import('@duckdb/node-api'), import('zod')]);
register();
const { main } = await import('../src/cli/main.ts');
await main(process.argv);
