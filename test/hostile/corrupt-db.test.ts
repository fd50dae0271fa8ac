/**
 * One corrupt page in the middle of opencode.db costs the rows on that page, each range of them an
 * error row, and nothing else: the rest of the table, the other tables and the JSON tree are stored
 * as a clean ingest of the readable data stores them (the same database without those rows).
 */
import { copyFileSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { FakeDb, tempDir } from '../support/datadir.ts';
import { entitySnapshot, ingestCli, q, readStore, writeCorpus } from './corpus.ts';

const T0 = 1_767_312_000_000;

/** A v1 database of 2 sessions, 40 messages and 600 parts (~1 KB each: the part table spans pages). */
function writeDb(path: string): void {
  const f = new FakeDb(path).project('proj1');
  for (let s = 0; s < 2; s++) f.session({ id: `ses_db${s}`, time_created: T0 });
  for (let m = 0; m < 40; m++)
    f.message(
      `msg_db${m}`,
      `ses_db${m % 2}`,
      { role: 'assistant', cost: 0.01, time: { created: T0 + m } },
      T0 + m,
    );
  for (let p = 0; p < 600; p++) {
    const m = p % 40;
    f.part(
      `prt_db${String(p).padStart(4, '0')}`,
      `msg_db${m}`,
      `ses_db${m % 2}`,
      { type: 'text', text: `${p} `.repeat(300) },
      T0 + p,
    );
  }
  f.db.pragma('journal_mode = DELETE'); // one file, no WAL beside it
  f.close();
}

/** The rowids on a table leaf page (cell pointer array after the 8-byte header; each cell: payload size, rowid varints). */
function rowidsOnLeaf(file: string, page: number, pageSize: number): number[] {
  const b = readFileSync(file).subarray((page - 1) * pageSize, page * pageSize);
  expect(b[0]).toBe(0x0d); // a table leaf
  const varint = (at: number): [number, number] => {
    let v = 0;
    for (let i = 0; i < 9; i++) {
      const c = b[at + i] as number;
      v = v * 128 + (c & 0x7f);
      if (c < 0x80) return [v, at + i + 1];
    }
    return [v, at + 9];
  };
  const out: number[] = [];
  for (let i = 0; i < b.readUInt16BE(3); i++) {
    const cell = b.readUInt16BE(8 + 2 * i);
    const [, next] = varint(cell);
    out.push(varint(next)[0]);
  }
  return out;
}

describe('a corrupt page in opencode.db', () => {
  it('stores every readable row and the JSON tree, and reports the unreadable rows', async () => {
    const dir = tempDir('ocb-hostile-src-');
    writeCorpus(dir, { sessions: 2 });
    const dbPath = join(dir, 'opencode.db');
    const good = join(tempDir(), 'good.db');
    writeDb(good);
    const probe = new Database(good, { readonly: true });
    const pageSize = Number(probe.pragma('page_size', { simple: true }));
    const leaves = (
      probe
        .prepare("SELECT pageno FROM dbstat WHERE name = 'part' AND pagetype = 'leaf' ORDER BY pageno")
        .all() as {
        pageno: number;
      }[]
    ).map((r) => r.pageno);
    probe.close();
    expect(leaves.length).toBeGreaterThan(20);
    // two pages in the middle, apart
    const bad = [
      leaves[Math.floor(leaves.length / 3)],
      leaves[Math.floor((2 * leaves.length) / 3)],
    ] as number[];
    const lostByPage = bad.map((p) => rowidsOnLeaf(good, p, pageSize));
    const lost = lostByPage.flat();
    expect(lostByPage.every((l) => l.length > 0)).toBe(true);

    // the readable data: the same database without the rows of that page
    copyFileSync(good, dbPath);
    const w = new Database(dbPath);
    w.prepare(`DELETE FROM part WHERE rowid IN (${lost.join(',')})`).run();
    w.close();
    const clean = ingestCli(dir);
    expect(clean.status, clean.stderr).toBe(0);

    // the hostile copy: that page overwritten
    rmSync(dbPath);
    copyFileSync(good, dbPath);
    const fd = openSync(dbPath, 'r+');
    for (const p of bad) writeSync(fd, Buffer.alloc(pageSize, 0x5a), 0, pageSize, (p - 1) * pageSize);
    const r = ingestCli(dir);
    expect(r.status, r.stderr).toBe(0);
    expect(r.seconds).toBeLessThan(60);
    const cleanSnap = await readStore(clean.db, (s) => entitySnapshot(s));
    await readStore(r.db, async (s) => {
      expect(await entitySnapshot(s)).toEqual(cleanSnap);
      expect(cleanSnap.parts?.n).toBe(600 - lost.length + 2 * 3); // the db's readable parts and the tree's
      const errs = await q(s, 'SELECT source_path, severity, reason FROM ingest_errors ORDER BY source_path');
      expect(errs.map((e) => [e.source_path, e.severity])).toEqual(
        lostByPage.map((l) => [`${dbPath}#part/rowid ${l[0]}-${l.at(-1)}`, 'error']),
      );
      expect(String(errs[0]?.reason)).toMatch(/^unreadable rows: database disk image is malformed/);
    });
  }, 180_000);
});
