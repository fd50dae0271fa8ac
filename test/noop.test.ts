/**
 * A re-ingest of unchanged input is a true no-op on both layouts: no row read from a database whose
 * fingerprint is unchanged, no row written, the store file the same size. When the fingerprint
 * changes but the rows do not (a checkpoint, a touched file), rows at the high-water mark and todo
 * lists are read again and compared: still nothing written. Real changes there still land.
 */
import { statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateCorpus } from '../src/gen/index.ts';
import { type IngestSummary, runIngest } from '../src/pipeline/ingestor.ts';
import { openStore } from '../src/store/db.ts';
import { tempDir } from './support/datadir.ts';
import { rows } from './support/store.ts';

const written = (s: IngestSummary) => Object.values(s.stats.rows).reduce((a, b) => a + b, 0);

/** One ingest in its own open/close of the store, as `ocbridge ingest` runs. */
async function ingestOnce(dir: string, db: string): Promise<{ summary: IngestSummary }> {
  const store = await openStore(db);
  try {
    return { summary: await runIngest(store, { source: dir, workers: 0 }) };
  } finally {
    store.close();
  }
}
const sizeOf = (db: string) => statSync(db).size;

describe.each(['json', 'v1'] as const)('re-ingest of an unchanged %s corpus', (layout) => {
  // one corpus and one first ingest for the whole block; the v1 cases run in order, the change last
  let data: string;
  let db: string;
  beforeAll(async () => {
    const dir = tempDir();
    data = join(dir, 'data');
    await generateCorpus({ out: data, sessions: 2, seed: 'noop', layout });
    db = join(dir, 's.duckdb');
    await ingestOnce(data, db);
  });

  it('reads nothing, writes nothing and leaves the store the same size', async () => {
    const before = sizeOf(db);
    const { summary } = await ingestOnce(data, db);
    expect(written(summary)).toBe(0);
    expect(summary.dbRowsRead).toBe(0);
    expect(summary.filesParsed).toBe(0);
    expect(sizeOf(db)).toBe(before);
  });

  it('keeps the raw JSON compressed (storage v1.2.0: ZSTD for long strings)', async () => {
    const store = await openStore(db, { readOnly: true });
    try {
      const segments = await rows(
        store,
        `SELECT compression, count(*)::INTEGER AS n FROM pragma_storage_info('parts')
          WHERE column_name = 'raw' AND segment_type <> 'VALIDITY' GROUP BY 1`,
      );
      expect(segments.map((r) => r.compression)).toEqual(['ZSTD']);
    } finally {
      store.close();
    }
  });

  if (layout === 'json') return;

  it('after a commit that changed no row: compares the rows at the mark and the todo lists, writes nothing', async () => {
    const before = sizeOf(db);
    // a no-op commit (a row rewritten with its own values) changes the fingerprint, not the rows
    const w = new Database(join(data, 'opencode.db'));
    w.prepare('UPDATE todo SET status = status WHERE rowid IN (SELECT rowid FROM todo LIMIT 1)').run();
    w.close();
    const { summary } = await ingestOnce(data, db);
    expect(summary.dbRowsRead).toBeGreaterThan(0); // it did compare
    expect(written(summary)).toBe(0);
    expect(sizeOf(db)).toBe(before);
    // nothing was recorded, so the next start compares again, and still writes nothing
    expect(written((await ingestOnce(data, db)).summary)).toBe(0);
    expect(sizeOf(db)).toBe(before);
  });

  it('records the fingerprint once for a store loaded without one, then reads nothing', async () => {
    const store = await openStore(db);
    await store.conn.run("DELETE FROM source_listings WHERE kind = 'database'");
    store.close();
    const first = (await ingestOnce(data, db)).summary;
    expect(first.dbRowsRead).toBeGreaterThan(0);
    expect(written(first)).toBe(0);
    expect((await ingestOnce(data, db)).summary.dbRowsRead).toBe(0);
  });

  it('after a touch (mtime): compares again and writes nothing', async () => {
    const before = sizeOf(db);
    utimesSync(join(data, 'opencode.db'), new Date(), new Date());
    const { summary } = await ingestOnce(data, db);
    expect(summary.dbRowsRead).toBeGreaterThan(0);
    expect(written(summary)).toBe(0);
    expect(sizeOf(db)).toBe(before);
  });

  it('still applies a changed todo list and a row changed within the high-water millisecond', async () => {
    const w = new Database(join(data, 'opencode.db'));
    const todo = w.prepare('SELECT session_id, position FROM todo LIMIT 1').get() as {
      session_id: string;
      position: number;
    };
    w.prepare('UPDATE todo SET content = ? WHERE session_id = ? AND position = ?').run(
      'changed',
      todo.session_id,
      todo.position,
    );
    // same time_updated as the stored high-water mark: only the content comparison can see it
    const last = w.prepare('SELECT id, data FROM message ORDER BY time_updated DESC LIMIT 1').get() as {
      id: string;
      data: string;
    };
    w.prepare('UPDATE message SET data = ? WHERE id = ?').run(
      JSON.stringify({ ...JSON.parse(last.data), agent: 'changed-agent' }),
      last.id,
    );
    w.close();
    const { summary } = await ingestOnce(data, db);
    expect(summary.stats.rows['messages/v1']).toBe(1); // that row only, no other at the mark
    expect(summary.stats.rows['parts/v1']).toBeUndefined();
    expect(summary.stats.rows['todos/v1']).toBeGreaterThan(0); // that session's list
    const store = await openStore(db);
    try {
      expect(await rows(store, `SELECT agent FROM messages WHERE message_id = '${last.id}'`)).toEqual([
        { agent: 'changed-agent' },
      ]);
      expect(
        await rows(
          store,
          `SELECT content FROM todos WHERE session_id = '${todo.session_id}' AND position = ${todo.position}`,
        ),
      ).toEqual([{ content: 'changed' }]);
    } finally {
      store.close();
    }
    // recorded with the rows: the next start reads nothing
    expect((await ingestOnce(data, db)).summary.dbRowsRead).toBe(0);
  });
});
