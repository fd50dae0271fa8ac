/**
 * The bin's Node options and environment, read from its shebang line (`#!/usr/bin/env -S NAME=VALUE …
 * node OPTION …`, the one place they are written), so a benchmark measures what the CLI runs.
 * Imported first, `reexecWithBinFlags()` runs the benchmark again under them unless it already is.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const SHEBANG = (readFileSync('bin/ocbridge.js', 'utf8').split('\n')[0] ?? '').split(/\s+/);
export const BIN_NODE_OPTIONS = SHEBANG.slice(SHEBANG.indexOf('node') + 1).filter(Boolean);
export const BIN_ENV: Record<string, string> = Object.fromEntries(
  SHEBANG.slice(0, SHEBANG.indexOf('node'))
    .filter((w) => /^\w+=/.test(w))
    .map((w) => [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)]),
);

export function reexecWithBinFlags(): void {
  if (process.env.OCBRIDGE_BENCH_BIN_FLAGS === '1') return;
  const r = spawnSync(
    process.execPath,
    [...BIN_NODE_OPTIONS, ...process.execArgv, process.argv[1] as string, ...process.argv.slice(2)],
    { stdio: 'inherit', env: { ...process.env, ...BIN_ENV, OCBRIDGE_BENCH_BIN_FLAGS: '1' } },
  );
  process.exit(r.status ?? 1);
}
