/** Runs the real `ocbridge` binary, as users and other tools do. */
import { spawn, spawnSync } from 'node:child_process';
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

/**
 * The same in a child process, asynchronously: for tests whose servers (an OTLP receiver, a
 * collector) live in this process's event loop. A child still running after `timeoutMs` is killed,
 * so a hang fails the test, not the run.
 */
export function cliAsync(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 120_000,
): Promise<CliResult> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    c.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const t = setTimeout(() => c.kill('SIGKILL'), timeoutMs);
    c.once('close', (status) => {
      clearTimeout(t);
      resolve({ status, stdout, stderr });
    });
  });
}

export function cliJson<T = Record<string, unknown>>(db: string, sql: string): T[] {
  const r = cli(['query', '--db', db, '--format', 'json', sql]);
  if (r.status !== 0) throw new Error(`ocbridge query failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as T[];
}
