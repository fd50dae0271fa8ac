/**
 * A folder of the JSON tree the bridge cannot read (another user's mode 000 folder) is an error row
 * and fails `source_readable`; everything else is stored as a clean ingest without that folder stores
 * it. Tests run as root, who reads mode 000 folders: the ingest runs as `nobody` (the child process
 * is spawned with nobody's uid and gid), so the folder is really unreadable to it.
 */
import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/datadir.ts';
import { cliAs, entitySnapshot, ingestCli, NOBODY, q, readStore, writeCorpus } from './corpus.ts';

describe('unreadable folders', () => {
  it('records an error row per unreadable folder, fails source_readable, and stores the rest', async () => {
    chmodSync(tmpdir(), 0o711); // the run's temp folder: nobody may pass through it (not list it)
    const dir = tempDir('ocb-hostile-src-');
    chmodSync(dir, 0o755);
    const locked = [join(dir, 'storage', 'message', 'ses_1'), join(dir, 'storage', 'part', 'msg_2a')];
    // the readable data: the corpus without the locked folders
    writeCorpus(dir, { sessions: 3 });
    for (const d of locked) rmSync(d, { recursive: true });
    const clean = ingestCli(dir);
    expect(clean.status, clean.stderr).toBe(0);
    rmSync(join(dir, 'storage'), { recursive: true });
    writeCorpus(dir, { sessions: 3 });
    for (const d of locked) chmodSync(d, 0o000);
    const out = tempDir('ocb-hostile-db-');
    chmodSync(out, 0o777);
    const db = join(out, 'store.duckdb');
    try {
      const bad = ingestCli(dir, db, NOBODY);
      expect(bad.status, bad.stderr).toBe(0);
      const summary = JSON.parse(bad.stdout);
      expect(summary.sources.unreadable).toEqual(locked);
      expect(summary.ingestErrors).toEqual({ error: 2 });
      const health = cliAs(NOBODY, ['health', '--db', db, '--source', dir, '--format', 'json']);
      expect(health.status, health.stderr).toBe(1);
      expect(health.stdout, health.stderr).not.toBe('');
      const check = JSON.parse(health.stdout).results.find((c: { id: string }) => c.id === 'source_readable');
      expect(check.status).toBe('fail');
      expect(check.explanation, check.explanation).toContain(`${locked[0]}: EACCES`);
      const cleanSnap = await readStore(clean.db, (s) => entitySnapshot(s));
      await readStore(db, async (s) => {
        expect(await entitySnapshot(s)).toEqual(cleanSnap);
        const errs = await q(
          s,
          'SELECT source_path, severity, reason FROM ingest_errors ORDER BY source_path',
        );
        expect(errs.map((e) => [e.source_path, e.severity])).toEqual([
          [locked[0], 'error'],
          [locked[1], 'error'],
        ]);
        expect(String(errs[0]?.reason)).toMatch(/^unreadable folder: EACCES/);
      });
      // readable again: the next ingest stores the folders and clears their rows
      for (const d of locked) chmodSync(d, 0o755);
      const again = ingestCli(dir, db, NOBODY);
      expect(again.status, again.stderr).toBe(0);
      expect(JSON.parse(again.stdout).ingestErrors).toEqual({});
    } finally {
      for (const d of locked) chmodSync(d, 0o755);
      mkdirSync(out, { recursive: true });
    }
  }, 180_000);
});
