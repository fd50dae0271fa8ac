/**
 * A full disk (ENOSPC) during `ingest` and `run` says so, with the path, and ends with a non-zero
 * exit: no hang, no empty `<db>.bridge.json` left behind. The fault is real: the store lives on a
 * 2 MiB tmpfs mounted for the test (skipped where mounting is refused). Once there is room, ingest resumes to the store a
 * clean ingest gives.
 */

import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliJson } from '../support/cli.ts';
import { tempDir } from '../support/datadir.ts';
import { writeCorpus } from './corpus.ts';

const BIN = fileURLToPath(new URL('../../bin/ocbridge.js', import.meta.url));
const root = tempDir('ocb-diskfull-');
const mnt = join(root, 'mnt');
const db = join(mnt, 'store.duckdb');
let source = '';
// mounting needs root (CAP_SYS_ADMIN); where it is refused the cases are skipped, visibly
mkdirSync(mnt);
const mounted =
  process.getuid?.() === 0 && spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mnt]).status === 0;

beforeAll(() => {
  // ~4 MB of incompressible tool output: more than the disk holds
  source = writeCorpus(join(root, 'src'), { toolOutput: randomBytes(3_000_000).toString('base64') });
});
afterAll(() => {
  if (mounted) spawnSync('umount', [mnt]);
  rmSync(root, { recursive: true, force: true });
});

/** Runs ocbridge; a hang is killed after 30 s and shows as `signal`. */
function ocbridge(args: string[]) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 30_000 });
  return {
    status: r.status,
    signal: r.signal,
    out: r.stdout + r.stderr,
    seconds: (performance.now() - t0) / 1000,
  };
}

describe.runIf(mounted)('a full disk ends cleanly', () => {
  it('ingest: "disk full (ENOSPC)" with the path, exit 1', () => {
    const r = ocbridge(['ingest', '--source', source, '--db', db, '--no-progress']);
    expect(r.signal).toBeNull();
    expect(r.status).toBe(1);
    expect(r.out).toContain(`disk full (ENOSPC) writing ${db}.wal`);
    expect(r.out).not.toMatch(/cannot rollback/);
    // what was committed stays (a later ingest resumes from it); nothing else is left
    expect(readdirSync(mnt).filter((f) => !['store.duckdb', 'store.duckdb.wal'].includes(f))).toEqual([]);
  }, 60_000);

  it('run: the history cannot be stored → says so and exits 1, no state file left', () => {
    const r = ocbridge(['run', '--source', source, '--db', db, '--port', '0', '--health-interval', '0']);
    expect(r.signal).toBeNull();
    expect(r.status).toBe(1);
    expect(r.out).toContain(`disk full (ENOSPC) writing ${db}.wal`);
    expect(readdirSync(mnt)).not.toContain('store.duckdb.bridge.json');
  }, 60_000);

  it('run: no room for the state file → says so and exits 1 instead of hanging, no empty file left', () => {
    // fill what is left of the disk
    try {
      for (let i = 0; ; i++) writeFileSync(join(mnt, `filler-${i}`), Buffer.alloc(64 * 1024));
    } catch (e) {
      expect((e as NodeJS.ErrnoException).code).toBe('ENOSPC');
    }
    const r = ocbridge(['run', '--source', source, '--db', db, '--port', '0', '--health-interval', '0']);
    expect(r.signal).toBeNull(); // unfixed: ENOSPC printed, then the server keeps the process up
    expect(r.status).not.toBe(0);
    expect(r.out).toMatch(/disk full \(ENOSPC\)/);
    expect(r.out).toContain(db);
    expect(readdirSync(mnt).filter((f) => !f.startsWith('filler-'))).toEqual(
      expect.not.arrayContaining(['store.duckdb.bridge.json']),
    );
    expect(r.seconds).toBeLessThan(25);
  }, 60_000);

  it('once there is room, ingest resumes to the same store as a clean ingest', () => {
    for (const f of readdirSync(mnt)) if (f.startsWith('filler-')) rmSync(join(mnt, f));
    expect(spawnSync('mount', ['-o', 'remount,size=16m', mnt]).status).toBe(0);
    expect(ocbridge(['ingest', '--source', source, '--db', db, '--no-progress']).status).toBe(0);
    const clean = join(root, 'clean.duckdb');
    expect(ocbridge(['ingest', '--source', source, '--db', clean, '--no-progress']).status).toBe(0);
    const sql =
      'SELECT (SELECT count(*) FROM sessions) s, (SELECT count(*) FROM parts) p, (SELECT sum(length(raw::VARCHAR)) FROM parts) b';
    expect(cliJson(db, sql)).toEqual(cliJson(clean, sql));
  }, 60_000);
});
