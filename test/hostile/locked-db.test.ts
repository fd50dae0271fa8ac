/**
 * A database another writer keeps locked is an error row while the lock lasts, and the row goes once
 * the lock goes and the database is read in full; the store then equals a clean ingest.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { FakeDb, tempDir } from '../support/datadir.ts';
import { entitySnapshot, ingestCli, q, readStore, writeCorpus } from './corpus.ts';

describe('a locked opencode.db', () => {
  it('records "database is locked", stores the rest, and clears the row once the lock is gone', async () => {
    const dir = writeCorpus(tempDir('ocb-hostile-src-'));
    const path = join(dir, 'opencode.db');
    const f = new FakeDb(path).project('proj1').session({ id: 'ses_db' });
    f.message('msg_db', 'ses_db', { role: 'user', time: { created: 1 } });
    f.db.pragma('journal_mode = DELETE');
    f.close();
    const clean = ingestCli(dir);
    expect(clean.status, clean.stderr).toBe(0);

    const db = join(tempDir('ocb-hostile-'), 'store.duckdb');
    const locker = new Database(path);
    locker.exec('BEGIN EXCLUSIVE');
    try {
      const locked = ingestCli(dir, db);
      expect(locked.status, locked.stderr).toBe(0);
      expect(locked.seconds).toBeLessThan(60);
    } finally {
      locker.exec('ROLLBACK');
      locker.close();
    }
    await readStore(db, async (s) => {
      const errs = await q(s, 'SELECT source_path, reason FROM ingest_errors');
      expect(errs.map((e) => e.source_path)).toEqual([path]);
      expect(String(errs[0]?.reason)).toMatch(/locked/);
      expect(await q(s, "SELECT count(*) AS n FROM sessions WHERE session_id = 'ses_0'")).toEqual([{ n: 1 }]);
    });
    const again = ingestCli(dir, db);
    expect(again.status, again.stderr).toBe(0);
    const cleanSnap = await readStore(clean.db, (s) => entitySnapshot(s));
    await readStore(db, async (s) => {
      expect(await q(s, 'SELECT source_path FROM ingest_errors')).toEqual([]);
      expect(await entitySnapshot(s)).toEqual(cleanSnap);
    });
  }, 180_000);
});
