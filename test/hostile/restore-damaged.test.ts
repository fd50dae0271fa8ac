/**
 * Restore verifies a backup whole before it replaces anything: a backup missing its last 23 KB (with
 * its checksum file, and without one) is refused with a clear message and a non-zero exit, even
 * under --force, and the good store it would have replaced is untouched.
 */
import { copyFileSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checksumPath } from '../../src/store/backup.ts';
import { cli } from '../support/cli.ts';
import { tempDir } from '../support/datadir.ts';
import { entitySnapshot, ingestCli, readStore, writeCorpus } from './corpus.ts';

describe('restore of a damaged backup', () => {
  it('refuses a truncated backup before replacing a good store, with or without its checksum file', async () => {
    const src = writeCorpus(tempDir('ocb-hostile-src-'), { sessions: 40 });
    const dir = tempDir('ocb-hostile-');
    const good = ingestCli(src, join(dir, 'good.duckdb'));
    expect(good.status, good.stderr).toBe(0);
    const backup = join(dir, 'backup.duckdb');
    const b = cli(['backup', '--db', good.db, '--out', backup]);
    expect(b.status, b.stderr).toBe(0);
    expect(readFileSync(checksumPath(backup), 'utf8')).toMatch(/^[0-9a-f]{64} {2}backup\.duckdb\n$/);
    // a complete backup restores (and its checksum file is what it checks)
    const restored = join(dir, 'restored.duckdb');
    const ok = cli(['restore', '--from', backup, '--db', restored]);
    expect(ok.status, ok.stderr).toBe(0);
    const before = await readStore(good.db, (s) => entitySnapshot(s));
    expect(await readStore(restored, (s) => entitySnapshot(s))).toEqual(before);

    const cut = join(dir, 'cut.duckdb');
    copyFileSync(backup, cut);
    truncateSync(cut, statSync(backup).size - 23 * 1024);
    writeFileSync(checksumPath(cut), readFileSync(checksumPath(backup), 'utf8').replace('backup.', 'cut.'));
    const target = join(dir, 'target.duckdb');
    copyFileSync(good.db, target);
    const r = cli(['restore', '--from', cut, '--db', target, '--force']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(
      /damaged or incomplete \(its checksum does not match .*\); nothing was replaced/,
    );
    expect(await readStore(target, (s) => entitySnapshot(s))).toEqual(before);

    // no checksum file: every table is read, and the missing blocks are found
    const bare = join(dir, 'bare.duckdb');
    copyFileSync(cut, bare);
    const r2 = cli(['restore', '--from', bare, '--db', target, '--force']);
    expect(r2.status).not.toBe(0);
    expect(r2.stderr).toMatch(/nothing was replaced|is not a DuckDB file/);
    expect(await readStore(target, (s) => entitySnapshot(s))).toEqual(before);
  }, 180_000);
});
