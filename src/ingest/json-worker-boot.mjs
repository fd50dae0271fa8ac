// Worker entry in plain JS: registers the TypeScript loader, then loads the worker itself.
// (A worker does not inherit the loader registered by bin/ocbridge.js.)
import { register } from 'tsx/esm/api';

register();
await import('./json-worker.ts');
