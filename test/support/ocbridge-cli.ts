/** Runs our CLI exactly like users do: `node bin/ocbridge.js …` from the repo root. */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './opencode-install.ts';

const execFileAsync = promisify(execFile);
export const OCBRIDGE_BIN = join(REPO_ROOT, 'bin', 'ocbridge.js');

async function ocbridge(args: string[], timeoutMs: number): Promise<string> {
  if (!existsSync(OCBRIDGE_BIN)) throw new Error(`${OCBRIDGE_BIN} does not exist yet`);
  try {
    const { stdout } = await execFileAsync(process.execPath, [OCBRIDGE_BIN, ...args], {
      cwd: REPO_ROOT,
      timeout: timeoutMs,
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, NO_COLOR: '1' },
    });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    throw new Error(
      `ocbridge ${args.join(' ')} failed: ${e.message}\nstdout: ${e.stdout ?? ''}\nstderr: ${e.stderr ?? ''}`,
    );
  }
}

export async function ocbridgeIngest(source: string, db: string, timeoutMs = 120_000): Promise<string> {
  return ocbridge(['ingest', '--source', source, '--db', db], timeoutMs);
}

export type Row = Record<string, unknown>;

/** `ocbridge query --format json` prints one JSON array of row objects. */
export async function ocbridgeQuery(db: string, sql: string, timeoutMs = 60_000): Promise<Row[]> {
  const stdout = await ocbridge(['query', '--db', db, '--format', 'json', sql], timeoutMs);
  let rows: unknown;
  try {
    rows = JSON.parse(stdout);
  } catch {
    throw new Error(`ocbridge query did not print JSON for: ${sql}\n${stdout.slice(0, 2000)}`);
  }
  if (!Array.isArray(rows)) throw new Error(`ocbridge query did not print a JSON array for: ${sql}`);
  return rows as Row[];
}
