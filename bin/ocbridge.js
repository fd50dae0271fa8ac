#!/usr/bin/env node
// Runs the TypeScript sources directly (tsx), so `ocbridge` works straight after `npm ci`.
import { register } from 'tsx/esm/api';

// The two largest dependencies every command uses load faster before the TypeScript loader is
// registered (its hooks see each of their many files): ~0.2 s of every start on 2 cores.
await Promise.all([import('@duckdb/node-api'), import('zod')]);
register();
const { main } = await import('../src/cli/main.ts');
await main(process.argv);
