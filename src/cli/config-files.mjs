// The config file candidates, in order. Plain JavaScript so that bin/ocbridge.js (prefetch.mjs) can
// use them before the TypeScript loader is registered; config.ts re-exports them.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * `$OCBRIDGE_CONFIG`, else `./ocbridge.config.json` then `$XDG_CONFIG_HOME/ocbridge/config.json`.
 * @param {NodeJS.ProcessEnv} [env]
 * @param {string} [cwd]
 */
export function configFileCandidates(env = process.env, cwd = process.cwd()) {
  if (env.OCBRIDGE_CONFIG) return [resolve(cwd, env.OCBRIDGE_CONFIG)];
  const xdg =
    env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME !== '' ? env.XDG_CONFIG_HOME : join(homedir(), '.config');
  return [join(cwd, 'ocbridge.config.json'), join(xdg, 'ocbridge', 'config.json')];
}
