#!/usr/bin/env -S node --max-semi-space-size=64
// Runs the TypeScript sources directly (tsx), so `ocbridge` works straight after `npm ci`.
// --max-semi-space-size=64 (MB; Node 20's default is 16): an ingest hands ~1.4 GB of parsed records
// through the main thread, and with small semi-spaces most of them outlive two scavenges, get
// promoted, and wait for a full GC; a full-scale ingest took 86-90 s with the default and 71-73 s
// with 64 MB (docs/architecture.md). `npm start`, `npm run demo` and the Dockerfile pass it too.
import { prefetchForArgv } from '../src/cli/prefetch.mjs';

// `ocbridge ingest`: the JSON tree's listing starts on a worker thread now, while this thread loads.
prefetchForArgv(process.argv);

// The two largest dependencies every command uses load faster before the TypeScript loader is
// registered (its hooks see each of their many files): ~0.2 s of every start on 2 cores.
const [{ register }] = await Promise.all([import('tsx/esm/api'), import('@duckdb/node-api'), import('zod')]);
register();
const { main } = await import('../src/cli/main.ts');
await main(process.argv);
