/**
 * Every failure a user meets says in one line what went wrong and how to fix it, exits with the
 * right code, and leaves nothing behind on disk.
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProgram } from '../src/cli/main.ts';
import { cli } from './support/cli.ts';
import { tempDir, writeStorage } from './support/datadir.ts';

const REAL = join(import.meta.dirname, 'fixtures', 'opencode-real', 'datadir');
const oneLine = (s: string) => s.trim().split('\n');

let busy: Server;
let busyPort = 0;
beforeAll(async () => {
  busy = createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
  busyPort = (busy.address() as { port: number }).port;
});
afterAll(() => new Promise<void>((r) => busy.close(() => r())));

describe('one line with the fix, the exit code, nothing created', () => {
  it('run: a port in use is said before the store is created', () => {
    const dir = tempDir('ocb-err-');
    const db = join(dir, 'store', 's.duckdb');
    const r = cli(['run', '--source', REAL, '--db', db, '--port', String(busyPort)]);
    expect(r.status).toBe(2);
    expect(oneLine(r.stderr)).toEqual([
      `ocbridge: port ${busyPort} on 127.0.0.1 is in use (another ocbridge run?): choose another with --port N, or --port 0 for any free port`,
    ]);
    expect(existsSync(join(dir, 'store'))).toBe(false);
  });

  it('a --db that does not exist: how to create it', () => {
    const db = join(tempDir('ocb-err-'), 'nope.duckdb');
    const r = cli(['report', 'daily', '--db', db]);
    expect(r.status).toBe(2);
    expect(oneLine(r.stderr)).toEqual([
      `ocbridge: no store at ${db}: create it with: ocbridge ingest --db ${db}`,
    ]);
    expect(existsSync(db)).toBe(false);
  });

  it("--db pointing at OpenCode's opencode.db: use it as --source", () => {
    const sqlite = join(REAL, 'opencode.db');
    for (const args of [
      ['report', '--db', sqlite],
      ['ingest', '--source', REAL, '--db', sqlite],
    ]) {
      const r = cli(args);
      expect(r.status, args[0]).toBe(2);
      const lines = oneLine(r.stderr);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        /^ocbridge: .*opencode\.db is a SQLite database \(OpenCode's opencode\.db\?\), not an ocbridge store: read it with --source .*opencode\.db/,
      );
    }
    expect(readdirSync(REAL).sort()).toEqual(['.gitignore', 'opencode.db', 'storage']); // no WAL, no store beside it
  });

  it("a SQLite --source that is not OpenCode's: said, not 0 rows and exit 0", () => {
    const dir = tempDir('ocb-err-');
    const other = join(dir, 'notes.db');
    const d = new Database(other);
    d.exec('CREATE TABLE notes (id INTEGER, body TEXT)');
    d.close();
    const db = join(dir, 'out', 's.duckdb');
    const r = cli(['ingest', '--source', other, '--db', db, '--no-progress']);
    expect(r.status).toBe(2);
    expect(oneLine(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(
      /notes\.db is a SQLite database but not OpenCode's \(no session table\): point --source at/,
    );
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  it('after an ingest with unreadable input, the hint keeps the --db the user gave', () => {
    const dir = tempDir('ocb-err-');
    const data = join(dir, 'data');
    writeStorage(data, 'project/p1.json', { id: 'p1', worktree: '/w/p1', time: { created: 1, updated: 1 } });
    mkdirSync(join(data, 'storage', 'session', 'p1'), { recursive: true });
    writeFileSync(join(data, 'storage', 'session', 'p1', 'ses_bad.json'), '{"id": "ses_bad", ');
    const db = join(dir, 'my store.duckdb');
    const r = cli(['ingest', '--source', data, '--db', db, '--no-progress']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`ocbridge query --db ${db} "SELECT * FROM ingest_errors"`);
    expect(r.stdout).toContain(`Next: ocbridge report --db ${db}`);
  });

  it('usage errors: exit 2, the error and the usage line, not the whole help', () => {
    const r = cli(['report', 'daily', '--bogus']);
    expect(r.status).toBe(2);
    expect(oneLine(r.stderr)).toEqual([
      "ocbridge: unknown option '--bogus'",
      'usage: ocbridge report [options] [kind]   (more: ocbridge report --help)',
    ]);
    const bad = cli(['report', 'dialy']);
    expect(bad.status).toBe(2);
    expect(oneLine(bad.stderr)[0]).toBe(
      "ocbridge: report: unknown kind 'dialy' (one of: sessions, daily, weekly, monthly, models, tools, errors)",
    );
  });
});

describe('help', () => {
  it("every command's --help shows at least one example", async () => {
    const program = await buildProgram();
    const all: Command[] = [];
    const walk = (c: Command) => {
      all.push(c);
      c.commands.forEach(walk);
    };
    walk(program);
    expect(all.length).toBeGreaterThanOrEqual(20);
    for (const c of all) {
      let out = '';
      c.configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (out += s) });
      c.outputHelp();
      expect(out, c.name()).toMatch(/\nExamples:\n {2}ocbridge /);
    }
  });

  it('one name per flag: export traces takes --otlp-endpoint like run; --endpoint stays, hidden', async () => {
    const program = await buildProgram();
    const traces = program.commands
      .find((c) => c.name() === 'export')
      ?.commands.find((c) => c.name() === 'traces');
    const run = program.commands.find((c) => c.name() === 'run');
    for (const c of [traces, run]) expect(c?.options.some((o) => o.long === '--otlp-endpoint')).toBe(true);
    const alias = traces?.options.find((o) => o.long === '--endpoint');
    expect(alias?.hidden).toBe(true);
  });
});
