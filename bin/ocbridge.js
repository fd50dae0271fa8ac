#!/usr/bin/env node
// Runs the TypeScript sources directly (tsx), so `ocbridge` works straight after `npm ci`.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
await main(process.argv);
