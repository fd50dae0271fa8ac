/** Runs the real `ocbridge` binary, as users and other tools do. */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/ocbridge.js', import.meta.url));

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function cli(args: string[], env: NodeJS.ProcessEnv = {}): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 120_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function cliJson<T = Record<string, unknown>>(db: string, sql: string): T[] {
  const r = cli(['query', '--db', db, '--format', 'json', sql]);
  if (r.status !== 0) throw new Error(`ocbridge query failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as T[];
}
