// Where OpenCode keeps its data. Plain JavaScript so that bin/ocbridge.js (src/cli/prefetch.mjs) can
// use it before the TypeScript loader is registered; discover.ts re-exports it.
import { homedir } from 'node:os';
import { join } from 'node:path';

/** `$XDG_DATA_HOME/opencode`, else `~/.local/share/opencode`. @param {NodeJS.ProcessEnv} [env] */
export function defaultOpenCodeDataDir(env = process.env) {
  const base =
    env.XDG_DATA_HOME && env.XDG_DATA_HOME !== '' ? env.XDG_DATA_HOME : join(homedir(), '.local', 'share');
  return join(base, 'opencode');
}
