import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cli, cliJson } from './support/cli.ts';
import { tempDir, writeStorage } from './support/datadir.ts';

const T0 = 1_767_312_000_000;

describe('ocbridge CLI contract', () => {
  const dir = tempDir();
  const db = join(dir, 'store.duckdb');
  writeStorage(dir, 'session/p/ses_a.json', {
    id: 'ses_a',
    projectID: 'p',
    title: 'A, "quoted"',
    directory: '/w',
    version: '1',
    time: { created: T0, updated: T0 },
  });
  writeStorage(dir, 'message/ses_a/msg_1.json', {
    id: 'msg_1',
    sessionID: 'ses_a',
    role: 'assistant',
    cost: 0.125,
    tokens: { input: 3, output: 4, reasoning: 0, cache: { read: 0, write: 0 } },
    time: { created: T0 },
  });

  it('ingest --source DIR --db FILE prints a summary; --format json for programs', () => {
    const r = cli(['ingest', '--source', dir, '--db', db, '--format', 'json']);
    expect(r.status, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.tables).toMatchObject({ sessions: 1, messages: 1 });
    expect(typeof s.seconds).toBe('number');
  });

  it('query --format json prints one JSON array with numbers as numbers and ISO timestamps', () => {
    const out = cliJson(
      db,
      'SELECT count(*) AS n, sum(input_tokens) AS i, sum(cost_usd)::DECIMAL(10,3) AS c, max(created_at) AS t, any_value(raw) AS raw FROM messages',
    );
    expect(out).toEqual([
      { n: 1, i: 3, c: 0.125, t: '2026-01-02T00:00:00.000Z', raw: expect.objectContaining({ id: 'msg_1' }) },
    ]);
  });

  it('query --format csv quotes properly; table is the default', () => {
    const csv = cli(['query', '--db', db, '--format', 'csv', 'SELECT title FROM sessions']);
    expect(csv.stdout.trim()).toBe('title\n"A, ""quoted"""');
    expect(cli(['query', '--db', db, 'SELECT 1 AS one']).stdout).toMatch(/one/);
  });

  it('query is read-only', () => {
    const r = cli(['query', '--db', db, 'DELETE FROM sessions']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/read-only|read only/i);
    expect(cli(['query', '--db', db, "COPY sessions TO '/tmp/x.csv'"]).status).not.toBe(0);
  });

  it('migrate status lists applied migrations; --help works on each command', () => {
    expect(cliJson(db, 'SELECT count(*) AS n FROM schema_migrations')[0]?.n).toBeGreaterThan(0);
    const st = cli(['migrate', 'status', '--db', db, '--format', 'json']);
    expect(JSON.parse(st.stdout)[0]).toMatchObject({ version: 1, applied: true });
    for (const c of [['ingest'], ['query'], ['migrate'], ['migrate', 'up'], ['migrate', 'down']]) {
      expect(cli([...c, '--help']).stdout).toMatch(/Usage: ocbridge/);
    }
  });

  it('runs as an executable through its shebang line, with its Node options (as npx ocbridge does)', () => {
    const bin = fileURLToPath(new URL('../bin/ocbridge.js', import.meta.url));
    expect(readFileSync(bin, 'utf8').split('\n')[0]).toBe(
      '#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --max-semi-space-size=64 --expose-gc',
    );
    // fails if env cannot split the line (no -S) or node rejects an option
    const out = execFileSync(bin, ['--version'], { encoding: 'utf8' });
    expect(out.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});
